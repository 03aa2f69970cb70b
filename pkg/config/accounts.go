package config

import (
	"fmt"
	"regexp"
)

// EnvAccountID is the function's own AWS account id, which the stack sets
// (remediate tells its own account's alarms from member accounts' with
// it). Unset, remediate acts on its own account's alarms only.
const EnvAccountID = "POSTDEPLOY_ACCOUNT_ID"

var accountID = regexp.MustCompile(`^\d{12}$`)

// AccountID reads EnvAccountID: "" when unset, else 12 digits.
func AccountID(getenv Getenv) (string, error) {
	v := getenv(EnvAccountID)
	if v != "" && !accountID.MatchString(v) {
		return "", fmt.Errorf("%s=%q: must be the function's 12-digit AWS account id (the postdeploy stack sets it) or unset", EnvAccountID, v)
	}
	return v, nil
}
