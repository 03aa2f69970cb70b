package dynalite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postdeploy/postdeploy/pkg/devtools/dynalite"
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

// A shared server starts only when a test asks for it.
func TestSharedStartsOnFirstUse(t *testing.T) {
	s := dynalite.StartShared(context.Background())
	if err := s.Close(); err != nil {
		t.Fatalf("Close of an unused shared server: %v", err)
	}
	s = dynalite.StartShared(context.Background())
	defer s.Close()
	a := s.Server(t)
	if b := s.Server(t); a != b {
		t.Errorf("Server returned %p then %p; want the same server", a, b)
	}
}

// Killing the process that started dynalite kills dynalite: a test
// binary that dies leaves no server running.
func TestServerDiesWithItsParent(t *testing.T) {
	if os.Getenv("DYNALITE_CHILD") == "1" {
		s, err := dynalite.Start(context.Background())
		if err != nil {
			os.Exit(3)
		}
		fmt.Println(dynalite.PID(s))
		time.Sleep(time.Minute) // killed before this ends
		return
	}
	if _, err := dynalite.Bin(); errors.Is(err, dynalite.ErrNotInstalled) && os.Getenv("CI") == "" {
		t.Skip("dynalite not installed: run make node")
	}
	cmd := exec.CommandContext(context.Background(), os.Args[0], "-test.run=^TestServerDiesWithItsParent$") //nolint:gosec // G702: re-runs this test binary itself
	cmd.Env = append(os.Environ(), "DYNALITE_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Fscan(out, &pid); err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("read the child's dynalite pid: %v", err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("dynalite (pid %d) still running 10s after its parent was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
