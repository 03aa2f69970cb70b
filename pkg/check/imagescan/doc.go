// Package imagescan is the imageScan check kind: it gates a deployment on
// the vulnerability findings of the deployed image digest, read from ECR
// (DescribeImageScanFindings: basic scanning, or Inspector's findings when
// enhanced scanning is on) and Inspector2 (ListFindings), normalised and
// scored through pkg/triage. A finding above the configured severity, or
// with a risk score above the configured maximum, fails the check.
//
// A spec names the image and the gate:
//
//   - name: image-findings
//     imageScan: {repository: app, digest: "#{Build.IMAGE_DIGEST}", maxSeverity: HIGH, maxScore: 70}
//
// The result's Values (output variables) are findings, critical, high,
// medium, low and maxScore. A scan still running, or not yet run, is
// Inconclusive; an API error or a failed scan is Error.
package imagescan
