package standin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// AlarmNotifications returns the CloudWatch alarm notifications AWS
// wrote for aws-lambda-go's own tests
// (events/testdata/cloudwatch-alarm-sns-payload-*.json in the module
// version go.mod pins), by file name: the SNS message each subscriber of
// an alarm's topic receives. Tests run filter policies against them. It
// runs `go list`, so it needs the go command and the module cache.
func AlarmNotifications(ctx context.Context) (map[string]events.SNSEntity, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m github.com/aws/aws-lambda-go: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "events", "testdata", "cloudwatch-alarm-sns-payload-*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no cloudwatch-alarm-sns-payload-*.json in aws-lambda-go's events/testdata (glob error: %w)", err)
	}
	samples := map[string]events.SNSEntity{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var ev events.SNSEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if len(ev.Records) != 1 {
			return nil, fmt.Errorf("%s: %d records; want 1", f, len(ev.Records))
		}
		samples[filepath.Base(f)] = ev.Records[0].SNS
	}
	return samples, nil
}

// NotificationAttributes converts the attributes of a delivered SNS
// notification ({"Type": …, "Value": …}) to what Publish took.
func NotificationAttributes(m map[string]any) map[string]MessageAttribute {
	out := map[string]MessageAttribute{}
	for k, v := range m {
		a, _ := v.(map[string]any)
		out[k] = MessageAttribute{DataType: fmt.Sprint(a["Type"]), StringValue: fmt.Sprint(a["Value"])}
	}
	return out
}
