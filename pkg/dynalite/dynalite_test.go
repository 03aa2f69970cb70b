package dynalite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postdeploy/postdeploy/pkg/dynalite"
)

func TestStartAnswersDynamoDBAndCloseKills(t *testing.T) {
	s := dynalite.StartT(t)
	ctx := context.Background()
	c := s.Client()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("things"),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable on %s: %v", s.Endpoint, err)
	}
	out, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if len(out.TableNames) != 1 || out.TableNames[0] != "things" {
		t.Errorf("ListTables = %v; want [things]", out.TableNames)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	if _, err := c.ListTables(ctx, &dynamodb.ListTablesInput{}); err == nil {
		t.Errorf("ListTables after Close succeeded; want the server gone")
	}
}

func TestTwoServersHaveSeparatePorts(t *testing.T) {
	a, b := dynalite.StartT(t), dynalite.StartT(t)
	if a.Endpoint == b.Endpoint {
		t.Errorf("two servers share endpoint %s", a.Endpoint)
	}
}

func TestStartWithoutNodeModules(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	s, err := dynalite.Start(context.Background())
	if !errors.Is(err, dynalite.ErrNotInstalled) {
		_ = s.Close()
		t.Fatalf("Start in a module without node_modules = %v; want ErrNotInstalled", err)
	}
}

// The process group is gone after Close: nothing is left running.
func TestCloseLeavesNoProcess(t *testing.T) {
	s, err := dynalite.Start(context.Background())
	if errors.Is(err, dynalite.ErrNotInstalled) && os.Getenv("CI") == "" {
		t.Skip("dynalite not installed: run make node")
	}
	if err != nil {
		t.Fatal(err)
	}
	pid := dynalite.PID(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(-%d, 0) after Close = %v; want ESRCH (process group gone)", pid, err)
	}
}
