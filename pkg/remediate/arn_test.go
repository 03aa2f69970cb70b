package remediate_test

const acct = "123456789012"

func alarmARN(name string) string { return "arn:aws:cloudwatch:us-east-1:" + acct + ":alarm:" + name }
