package respond

import (
	"fmt"
	"net/url"
	"strings"
)

// Console links, so a person lands on the right page in one click.

func pathEscape(s string) string { return url.PathEscape(s) }

func pipelineExecutionURL(region, pipeline, execution string) string {
	return fmt.Sprintf("https://%s.console.aws.amazon.com/codesuite/codepipeline/pipelines/%s/executions/%s/timeline?region=%s",
		region, pathEscape(pipeline), pathEscape(execution), region)
}

func deploymentURL(region, id string) string {
	return fmt.Sprintf("https://%s.console.aws.amazon.com/codesuite/codedeploy/deployments/%s?region=%s", region, pathEscape(id), region)
}

func buildURL(region, project, buildID string) string {
	return fmt.Sprintf("https://%s.console.aws.amazon.com/codesuite/codebuild/projects/%s/build/%s/?region=%s",
		region, pathEscape(project), url.PathEscape(buildID), region)
}

// arnRegion returns the region of the first ARN in arns that names one
// ("arn:partition:service:region:account:resource"), or "".
func arnRegion(arns []string) string {
	for _, a := range arns {
		if parts := strings.SplitN(a, ":", 6); len(parts) == 6 && parts[0] == "arn" && parts[3] != "" {
			return parts[3]
		}
	}
	return ""
}
