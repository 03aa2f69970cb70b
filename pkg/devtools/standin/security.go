package standin

import (
	"fmt"
	"strconv"
	"strings"
)

func ecrDescribeFindings(s *Server, req *request) (any, error) {
	repo := str(req.input, "repositoryName")
	id := obj(req.input, "imageId")
	digest, tag := str(id, "imageDigest"), str(id, "imageTag")
	if repo == "" || (digest == "" && tag == "") {
		return nil, apiErr(400, "InvalidParameterException", "repositoryName and imageId (imageDigest or imageTag) are required")
	}
	repoKnown := false
	var scan *ImageScan
	for i := range s.st.scans {
		sc := &s.st.scans[i]
		if sc.Repository != repo {
			continue
		}
		repoKnown = true
		if (digest != "" && sc.Digest == digest) || (digest == "" && tag != "" && sc.Tag == tag) {
			scan = sc
			break
		}
	}
	if !repoKnown {
		return nil, apiErr(400, "RepositoryNotFoundException", "The repository with name '%s' does not exist in the registry with id '%s'", repo, AccountID)
	}
	if scan == nil {
		return nil, apiErr(400, "ScanNotFoundException", "Image scan does not exist for image with '{imageDigest:'%s', imageTag:'%s'}' in the repository with name '%s'", digest, tag, repo)
	}
	status := scan.Status
	if status == "" {
		status = "COMPLETE"
	}
	counts := map[string]any{}
	var findings []any
	for _, f := range scan.Findings {
		n, _ := counts[f.Severity].(int)
		counts[f.Severity] = n + 1
		var attrs []any
		if f.Package != "" {
			attrs = append(attrs, map[string]any{"key": "package_name", "value": f.Package})
		}
		if f.Version != "" {
			attrs = append(attrs, map[string]any{"key": "package_version", "value": f.Version})
		}
		findings = append(findings, map[string]any{"name": f.Name, "severity": f.Severity,
			"description": f.Description, "uri": f.URI, "attributes": attrs})
	}
	imageID := map[string]any{"imageDigest": scan.Digest}
	if scan.Tag != "" {
		imageID["imageTag"] = scan.Tag
	}
	out := map[string]any{
		"registryId": AccountID, "repositoryName": repo, "imageId": imageID,
		"imageScanStatus": map[string]any{"status": status, "description": "The scan was completed successfully."},
	}
	if status == "COMPLETE" {
		out["imageScanFindings"] = map[string]any{
			"findings": findings, "findingSeverityCounts": counts,
			"imageScanCompletedAt": s.st.start, "vulnerabilitySourceUpdatedAt": s.st.start,
		}
	}
	return out, nil
}

// inspectorMatch applies the string filters the suite uses; other
// criteria are ignored.
func inspectorMatch(f InspectorFinding, criteria map[string]any) bool {
	fields := map[string]string{
		"ecrImageRepositoryName": f.Repository,
		"ecrImageHash":           f.Digest,
		"severity":               f.Severity,
		"findingStatus":          f.Status,
		"findingType":            f.Type,
		"vulnerabilityId":        f.VulnerabilityID,
		"resourceId":             f.ResourceID,
		"findingArn":             f.ARN,
	}
	for key, have := range fields {
		conds := list(criteria, key)
		if len(conds) == 0 {
			continue
		}
		ok := false
		for _, raw := range conds {
			c, _ := raw.(map[string]any)
			v := str(c, "value")
			switch str(c, "comparison") {
			case "EQUALS", "":
				ok = ok || have == v
			case "PREFIX":
				ok = ok || strings.HasPrefix(have, v)
			case "NOT_EQUALS":
				ok = ok || have != v
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func inspectorListFindings(s *Server, req *request) (any, error) {
	crit := obj(req.input, "filterCriteria")
	limit := 100
	if n, ok := intField(req.input, "maxResults"); ok {
		if n < 1 || n > 100 {
			return nil, apiErr(400, "ValidationException", "maxResults %d must be between 1 and 100", n)
		}
		limit = n
	}
	offset := 0
	if tok := str(req.input, "nextToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "standin-"))
		if err != nil || n < 0 {
			return nil, apiErr(400, "ValidationException", "nextToken %q was not issued by this stand-in", tok)
		}
		offset = n
	}
	var matched []InspectorFinding
	for _, f := range s.st.findings {
		if inspectorMatch(f, crit) {
			matched = append(matched, f)
		}
	}
	out := map[string]any{}
	if offset > len(matched) {
		offset = len(matched)
	}
	page := matched[offset:]
	if len(page) > limit {
		page = page[:limit]
		out["nextToken"] = "standin-" + strconv.Itoa(offset+limit)
	}
	findings := []any{}
	for _, f := range page {
		rtype, rid := f.ResourceType, f.ResourceID
		if rtype == "" {
			rtype = "AWS_ECR_CONTAINER_IMAGE"
		}
		if rid == "" {
			rid = fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s/%s", Region, AccountID, f.Repository, f.Digest)
		}
		res := map[string]any{"type": rtype, "id": rid, "region": Region}
		if rtype == "AWS_ECR_CONTAINER_IMAGE" {
			res["details"] = map[string]any{"awsEcrContainerImage": map[string]any{
				"repositoryName": f.Repository, "imageHash": f.Digest, "registry": AccountID}}
		}
		m := map[string]any{
			"findingArn": f.ARN, "awsAccountId": AccountID, "type": f.Type, "title": f.Title,
			"description": f.Title, "severity": f.Severity, "status": f.Status,
			"firstObservedAt": s.st.start, "lastObservedAt": s.st.start, "updatedAt": s.st.start,
			"remediation": map[string]any{"recommendation": map[string]any{"text": "Update the affected package."}},
			"resources":   []any{res},
		}
		if f.Score > 0 {
			m["inspectorScore"] = f.Score
		}
		if f.VulnerabilityID != "" {
			m["packageVulnerabilityDetails"] = map[string]any{"vulnerabilityId": f.VulnerabilityID, "source": "NVD",
				"vulnerablePackages": []any{}}
		}
		findings = append(findings, m)
	}
	out["findings"] = findings
	return out, nil
}
