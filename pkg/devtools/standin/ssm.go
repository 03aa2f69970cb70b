package standin

import (
	"encoding/base64"
	"fmt"
)

func paramArn(name string) string {
	if len(name) > 0 && name[0] == '/' {
		name = name[1:]
	}
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", Region, AccountID, name)
}

func ssmGetParameter(s *Server, req *request) (any, error) {
	name := str(req.input, "Name")
	if name == "" {
		return nil, validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must not be null")
	}
	p, ok := s.st.params[name]
	if !ok {
		return nil, apiErr(400, "ParameterNotFound", "parameter %s not found; seed it in Scenario.Parameters", name)
	}
	value := p.Value
	if p.Type == "SecureString" && !boolField(req.input, "WithDecryption") {
		// What SSM returns without decryption: the ciphertext.
		value = base64.StdEncoding.EncodeToString([]byte("standin-kms:" + p.Value))
	}
	return map[string]any{"Parameter": map[string]any{
		"Name": p.Name, "Type": p.Type, "Value": value, "Version": p.Version,
		"ARN": paramArn(p.Name), "DataType": "text", "LastModifiedDate": s.st.start,
	}}, nil
}

func ssmStartAutomation(s *Server, req *request) (any, error) {
	doc := str(req.input, "DocumentName")
	if doc == "" {
		return nil, validation("DocumentName is required")
	}
	params := map[string][]string{}
	for k, v := range obj(req.input, "Parameters") {
		if l, ok := v.([]any); ok {
			for _, x := range l {
				if sv, ok := x.(string); ok {
					params[k] = append(params[k], sv)
				}
			}
		}
	}
	id := fmt.Sprintf("%08x-0000-4000-8000-%012d", len(s.st.automation)+1, len(s.st.automation)+1)
	s.st.automation = append(s.st.automation, AutomationExecution{ID: id, DocumentName: doc, Parameters: params, Time: s.now()})
	return map[string]any{"AutomationExecutionId": id}, nil
}
