package standin

import (
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"
)

// ECS

func ecsClusterName(c string) string {
	if c == "" {
		return "default"
	}
	if i := strings.LastIndex(c, "/"); i >= 0 {
		return c[i+1:]
	}
	return c
}

func ecsServiceName(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// settle completes a deployment whose settle time has passed: running
// reaches desired and older deployments drain.
func (st *state) settle(svc *ecsService, now time.Time) {
	if len(svc.deployments) == 0 {
		return
	}
	p := &svc.deployments[0]
	if p.rollout == "IN_PROGRESS" && !now.Before(p.settleAt) {
		p.rollout = "COMPLETED"
		svc.deployments = svc.deployments[:1]
		svc.RunningCount = svc.DesiredCount
	}
}

func (svc *ecsService) tree(withTags bool) map[string]any {
	arn := fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", Region, AccountID, svc.Cluster, svc.Name)
	td := svc.TaskDefinition
	if td == "" {
		td = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:1", Region, AccountID, svc.Name)
	}
	var deps []any
	for i, d := range svc.deployments {
		running := d.desired
		if i == 0 {
			running = svc.RunningCount
		}
		deps = append(deps, map[string]any{
			"id": d.id, "status": d.status, "taskDefinition": td, "desiredCount": d.desired,
			"runningCount": running, "pendingCount": 0, "createdAt": d.created, "updatedAt": d.created,
			"rolloutState": d.rollout, "launchType": "FARGATE",
		})
	}
	m := map[string]any{
		"serviceArn": arn, "serviceName": svc.Name,
		"clusterArn": fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", Region, AccountID, svc.Cluster),
		"status":     "ACTIVE", "desiredCount": svc.DesiredCount, "runningCount": svc.RunningCount,
		"pendingCount": max(0, svc.DesiredCount-svc.RunningCount), "taskDefinition": td,
		"launchType": "FARGATE", "deployments": deps,
	}
	if withTags {
		var tags []any
		for _, k := range sortedKeys(svc.Tags) {
			tags = append(tags, map[string]any{"key": k, "value": svc.Tags[k]})
		}
		m["tags"] = tags
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ecsDescribeServices(s *Server, req *request) (any, error) {
	cluster := ecsClusterName(str(req.input, "cluster"))
	names := strList(req.input, "services")
	if len(names) == 0 || len(names) > 10 {
		return nil, apiErr(400, "InvalidParameterException", "services must name 1 to 10 services, got %d", len(names))
	}
	withTags := false
	for _, inc := range strList(req.input, "include") {
		withTags = withTags || inc == "TAGS"
	}
	services, failures := []any{}, []any{}
	now := s.now()
	for _, n := range names {
		svc, ok := s.st.services[cluster+"/"+ecsServiceName(n)]
		if !ok {
			failures = append(failures, map[string]any{"arn": fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", Region, AccountID, cluster, ecsServiceName(n)), "reason": "MISSING"})
			continue
		}
		s.st.settle(svc, now)
		services = append(services, svc.tree(withTags))
	}
	return map[string]any{"services": services, "failures": failures}, nil
}

func ecsUpdateService(s *Server, req *request) (any, error) {
	cluster := ecsClusterName(str(req.input, "cluster"))
	name := ecsServiceName(str(req.input, "service"))
	svc, ok := s.st.services[cluster+"/"+name]
	if !ok {
		return nil, apiErr(400, "ServiceNotFoundException", "Service not found: %s in cluster %s", name, cluster)
	}
	now := s.now()
	s.st.settle(svc, now)
	changed := false
	if n, ok := intField(req.input, "desiredCount"); ok {
		if n < 0 {
			return nil, apiErr(400, "InvalidParameterException", "desiredCount %d must not be negative", n)
		}
		changed = changed || n != svc.DesiredCount
		svc.DesiredCount = n
	}
	if boolField(req.input, "forceNewDeployment") || changed {
		for i := range svc.deployments {
			svc.deployments[i].status = "ACTIVE"
		}
		d := ecsDeployment{id: s.st.nextID("ecs-svc/"), status: "PRIMARY", rollout: "IN_PROGRESS",
			created: now, desired: svc.DesiredCount, settleAt: now.Add(s.st.settleAfter)}
		svc.deployments = append([]ecsDeployment{d}, svc.deployments...)
	}
	return map[string]any{"service": svc.tree(false)}, nil
}

// EC2

var ec2StateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

func ec2DescribeInstances(s *Server, req *request) (any, error) {
	ids := strList(req.input, "InstanceId")
	for _, id := range ids {
		if _, ok := s.st.instances[id]; !ok {
			return nil, apiErr(400, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		}
	}
	if len(ids) == 0 {
		ids = sortedKeys(s.st.instances)
	}
	filters := list(req.input, "Filter")
	var items []any
	for _, id := range ids {
		in := s.st.instances[id]
		if !ec2Match(in, filters) {
			continue
		}
		var tags []any
		for _, k := range sortedKeys(in.Tags) {
			tags = append(tags, map[string]any{"key": k, "value": in.Tags[k]})
		}
		inst := map[string]any{
			"instanceId": in.ID, "instanceType": in.InstanceType,
			"instanceState": map[string]any{"code": ec2StateCodes[in.State], "name": in.State},
			"launchTime":    s.st.start.Add(-24 * time.Hour),
			"placement":     map[string]any{"availabilityZone": Region + "a"},
			"tagSet":        tags,
		}
		items = append(items, map[string]any{
			"reservationId": "r-" + strings.TrimPrefix(in.ID, "i-"), "ownerId": AccountID,
			"instancesSet": []any{inst},
		})
	}
	return map[string]any{"reservationSet": items}, nil
}

func ec2Match(in *Instance, filters []any) bool {
	for _, raw := range filters {
		f, _ := raw.(map[string]any)
		name := str(f, "Name")
		vals := strList(f, "Value")
		var have string
		switch {
		case strings.HasPrefix(name, "tag:"):
			v, ok := in.Tags[strings.TrimPrefix(name, "tag:")]
			if !ok {
				return false
			}
			have = v
		case name == "instance-state-name":
			have = in.State
		case name == "instance-id":
			have = in.ID
		case name == "tag-key":
			found := false
			for _, v := range vals {
				_, ok := in.Tags[v]
				found = found || ok
			}
			if !found {
				return false
			}
			continue
		default:
			continue // unknown filters are ignored by the stand-in
		}
		match := false
		for _, v := range vals {
			match = match || v == have || v == "*"
		}
		if !match {
			return false
		}
	}
	return true
}

func ec2RebootInstances(s *Server, req *request) (any, error) {
	ids := strList(req.input, "InstanceId")
	if len(ids) == 0 {
		return nil, apiErr(400, "MissingParameter", "The request must contain the parameter InstanceId")
	}
	for _, id := range ids {
		if _, ok := s.st.instances[id]; !ok {
			return nil, apiErr(400, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		}
	}
	if s.st.reboots == nil {
		s.st.reboots = map[string]int{}
	}
	for _, id := range ids {
		s.st.reboots[id]++
	}
	return map[string]any{"return": true}, nil
}

// Reboots returns how many times RebootInstances hit an instance.
func (s *Server) Reboots(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.reboots[id]
}

// Auto Scaling

func asgDescribe(s *Server, req *request) (any, error) {
	names := strList(req.input, "AutoScalingGroupNames")
	if len(names) == 0 {
		names = sortedKeys(s.st.asgs)
	}
	groups := []any{}
	for _, n := range names {
		g, ok := s.st.asgs[n]
		if !ok {
			continue // AWS omits unknown names
		}
		var insts, tags []any
		for _, id := range g.Instances {
			insts = append(insts, map[string]any{"InstanceId": id, "LifecycleState": "InService", "HealthStatus": "Healthy",
				"AvailabilityZone": Region + "a", "ProtectedFromScaleIn": false})
		}
		for _, k := range sortedKeys(g.Tags) {
			tags = append(tags, map[string]any{"Key": k, "Value": g.Tags[k], "ResourceId": g.Name,
				"ResourceType": "auto-scaling-group", "PropagateAtLaunch": true})
		}
		groups = append(groups, map[string]any{
			"AutoScalingGroupName": g.Name,
			"AutoScalingGroupARN":  fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/%s", Region, AccountID, g.Name),
			"MinSize":              g.Min, "MaxSize": g.Max, "DesiredCapacity": g.Desired, "DefaultCooldown": 300,
			"AvailabilityZones": []any{Region + "a"}, "HealthCheckType": "EC2", "CreatedTime": s.st.start.Add(-24 * time.Hour),
			"Instances": insts, "Tags": tags,
		})
	}
	return map[string]any{"AutoScalingGroups": groups}, nil
}

func asgSetDesired(s *Server, req *request) (any, error) {
	name := str(req.input, "AutoScalingGroupName")
	g, ok := s.st.asgs[name]
	if !ok {
		return nil, apiErr(400, "ValidationError", "AutoScalingGroup name not found - no such group: %s", name)
	}
	n, ok := intField(req.input, "DesiredCapacity")
	if !ok {
		return nil, apiErr(400, "ValidationError", "DesiredCapacity is required")
	}
	if n < g.Min || n > g.Max {
		return nil, apiErr(400, "ValidationError", "New SetDesiredCapacity value %d is outside the bounds of group %s: min %d, max %d", n, name, g.Min, g.Max)
	}
	g.Desired = n
	return map[string]any{}, nil
}

// CodeDeploy

func (d *deployment) tree() map[string]any {
	m := map[string]any{
		"deploymentId": d.ID, "applicationName": d.ApplicationName, "deploymentGroupName": d.GroupName,
		"status": d.Status, "createTime": d.created, "creator": "user",
	}
	if d.rollbackOf != "" {
		m["creator"] = "codeDeployRollback"
	}
	if !d.completed.IsZero() {
		m["completeTime"] = d.completed
	}
	maps.Copy(m, d.info)
	if d.rollbackID != "" || d.rollbackOf != "" || d.rollbackMessage != "" {
		m["rollbackInfo"] = map[string]any{"rollbackDeploymentId": d.rollbackID,
			"rollbackTriggeringDeploymentId": d.rollbackOf, "rollbackMessage": d.rollbackMessage}
	}
	return m
}

// settleDeployment completes a rollback deployment once SettleAfter has
// passed.
func (st *state) settleDeployment(d *deployment, now time.Time) {
	if d.Status == "InProgress" && !d.settleAt.IsZero() && !now.Before(d.settleAt) {
		d.Status, d.completed = "Succeeded", d.settleAt
	}
}

func cdGetDeployment(s *Server, req *request) (any, error) {
	id := str(req.input, "deploymentId")
	d, ok := s.st.deploys[id]
	if !ok {
		return nil, apiErr(400, "DeploymentDoesNotExistException", "The deployment %s could not be found", id)
	}
	s.st.settleDeployment(d, s.now())
	return map[string]any{"deploymentInfo": d.tree()}, nil
}

// cdStopDeployment stops a deployment; with autoRollbackEnabled it starts
// a rollback deployment that succeeds after Scenario.SettleAfter.
func cdStopDeployment(s *Server, req *request) (any, error) {
	id := str(req.input, "deploymentId")
	d, ok := s.st.deploys[id]
	if !ok {
		return nil, apiErr(400, "DeploymentDoesNotExistException", "The deployment %s could not be found", id)
	}
	switch d.Status {
	case "Succeeded", "Failed", "Stopped":
		return nil, apiErr(400, "DeploymentAlreadyCompletedException", "The deployment %s is already %s", id, d.Status)
	}
	now := s.now()
	d.Status, d.completed = "Stopped", now
	if boolField(req.input, "autoRollbackEnabled") {
		rb := &deployment{Deployment: Deployment{ID: s.st.nextID("d-RB"), ApplicationName: d.ApplicationName,
			GroupName: d.GroupName, Status: "InProgress"}, created: now, rollbackOf: id, settleAt: now.Add(s.st.settleAfter)}
		s.st.deploys[rb.ID] = rb
		d.rollbackID = rb.ID
		d.rollbackMessage = "Stopped with autoRollbackEnabled: rollback deployment " + rb.ID + " started"
	}
	return map[string]any{"status": "Succeeded", "statusMessage": "Deployment " + id + " stopped"}, nil
}

func groupArn(app, name string) string {
	return fmt.Sprintf("arn:aws:codedeploy:%s:%s:deploymentgroup:%s/%s", Region, AccountID, app, name)
}

func cdGetDeploymentGroup(s *Server, req *request) (any, error) {
	app, name := str(req.input, "applicationName"), str(req.input, "deploymentGroupName")
	g, ok := s.st.groups[app+"/"+name]
	if !ok {
		return nil, apiErr(400, "DeploymentGroupDoesNotExistException", "No deployment group %s in application %s; seed it in Scenario.DeploymentGroups", name, app)
	}
	var alarms []any
	for _, a := range g.Alarms {
		alarms = append(alarms, map[string]any{"name": a})
	}
	info := map[string]any{
		"applicationName": g.ApplicationName, "deploymentGroupName": g.Name,
		"deploymentGroupId":  "00000000-0000-4000-8000-" + fmt.Sprintf("%012d", len(g.Name)),
		"computePlatform":    g.ComputePlatform,
		"alarmConfiguration": map[string]any{"enabled": len(g.Alarms) > 0, "alarms": alarms},
		"autoRollbackConfiguration": map[string]any{"enabled": g.AutoRollback,
			"events": []any{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}},
	}
	return map[string]any{"deploymentGroupInfo": info}, nil
}

func cdListDeployments(s *Server, req *request) (any, error) {
	app, group := str(req.input, "applicationName"), str(req.input, "deploymentGroupName")
	statuses := map[string]bool{}
	for _, st := range strList(req.input, "includeOnlyStatuses") {
		statuses[st] = true
	}
	now := s.now()
	var ds []*deployment
	for _, d := range s.st.deploys {
		s.st.settleDeployment(d, now)
		switch {
		case app != "" && d.ApplicationName != app:
		case group != "" && d.GroupName != group:
		case len(statuses) > 0 && !statuses[d.Status]:
		default:
			ds = append(ds, d)
		}
	}
	// Newest first, as CodeDeploy lists them.
	sort.Slice(ds, func(i, j int) bool {
		if !ds[i].created.Equal(ds[j].created) {
			return ds[i].created.After(ds[j].created)
		}
		return ds[i].ID > ds[j].ID
	})
	ids := []any{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return map[string]any{"deployments": ids}, nil
}

func cdListTags(s *Server, req *request) (any, error) {
	arn := str(req.input, "ResourceArn")
	_, id, _ := strings.Cut(arn, ":deploymentgroup:") // any partition, region, account
	for _, g := range s.st.groups {
		if g.ApplicationName+"/"+g.Name == id {
			tags := []any{}
			for _, k := range sortedKeys(g.Tags) {
				tags = append(tags, map[string]any{"Key": k, "Value": g.Tags[k]})
			}
			return map[string]any{"Tags": tags}, nil
		}
	}
	return nil, apiErr(400, "InvalidArnException", "no deployment group with ARN %q in the scenario (ARNs look like %s)", arn, groupArn("app", "group"))
}

// Lambda

func aliasTree(a *LambdaAlias) map[string]any {
	m := map[string]any{
		"AliasArn": fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s:%s", Region, AccountID, a.Function, a.Name),
		"Name":     a.Name, "FunctionVersion": a.Version, "Description": a.Description,
		"RevisionId": fmt.Sprintf("00000000-0000-4000-8000-%012d", len(a.Version)+len(a.AdditionalWeights)),
	}
	if len(a.AdditionalWeights) > 0 {
		w := map[string]any{}
		for k, v := range a.AdditionalWeights {
			w[k] = v
		}
		m["RoutingConfig"] = map[string]any{"AdditionalVersionWeights": w}
	}
	return m
}

func lambdaFunctionName(fn string) string {
	// Accept a function ARN: arn:aws:lambda:region:acct:function:name[:qualifier]
	if strings.HasPrefix(fn, "arn:") {
		parts := strings.Split(fn, ":")
		if len(parts) >= 7 {
			return parts[6]
		}
	}
	return fn
}

func lambdaGetAlias(s *Server, req *request) (any, error) {
	fn, name := lambdaFunctionName(str(req.input, "FunctionName")), str(req.input, "Name")
	a, ok := s.st.aliases[fn+":"+name]
	if !ok {
		return nil, apiErr(404, "ResourceNotFoundException", "Alias not found: arn:aws:lambda:%s:%s:function:%s:%s", Region, AccountID, fn, name)
	}
	return aliasTree(a), nil
}

func lambdaUpdateAlias(s *Server, req *request) (any, error) {
	fn, name := lambdaFunctionName(str(req.input, "FunctionName")), str(req.input, "Name")
	a, ok := s.st.aliases[fn+":"+name]
	if !ok {
		return nil, apiErr(404, "ResourceNotFoundException", "Alias not found: arn:aws:lambda:%s:%s:function:%s:%s", Region, AccountID, fn, name)
	}
	if v := str(req.input, "FunctionVersion"); v != "" {
		a.Version = v
	}
	if _, ok := req.input["Description"]; ok {
		a.Description = str(req.input, "Description")
	}
	if rc := obj(req.input, "RoutingConfig"); rc != nil {
		w := map[string]float64{}
		for k, v := range obj(rc, "AdditionalVersionWeights") {
			f, ok := num(v)
			if !ok || f < 0 || f > 1 {
				return nil, apiErr(400, "InvalidParameterValueException", "RoutingConfig.AdditionalVersionWeights[%s] must be a number from 0.0 to 1.0", k)
			}
			if k == a.Version {
				return nil, apiErr(400, "InvalidParameterValueException", "RoutingConfig cannot route to the alias's own version %s", k)
			}
			w[k] = f
		}
		a.AdditionalWeights = w
	}
	return aliasTree(a), nil
}
