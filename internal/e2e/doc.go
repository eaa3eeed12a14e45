// Package e2e holds end-to-end tests that run the real agora binary.
//
// TestMain builds cmd/agora once into a temporary directory. Each test
// starts "agora dev" nodes as subprocesses on free loopback ports, drives
// them through the command line and the HTTP client as a user would,
// kills and restarts them, and checks their stores with "agora fsck".
// TestWitness also runs "agora witness" and checks that the node serves
// its cosignatures. TestNetwork and TestPartition run networks of four
// validators, each an "agora node start" process; TestPartition routes
// their peer-to-peer links through TCP proxies that it cuts and heals, and
// TestNetworkDiskFull fills one validator's disk (a tmpfs).
//
// # Running
//
//	go test ./internal/e2e
//	go test ./internal/e2e -short               # one crash round
//	AGORA_CRASH_ROUNDS=20 go test ./internal/e2e -run Crash -v
//	AGORA_CRASH_SEED=42 go test ./internal/e2e -run Crash -v
//
// AGORA_CRASH_ROUNDS sets how many times TestCrashDuringLoad kills the
// node under load (default 3; 1 with -short). AGORA_CRASH_SEED fixes the
// seed of its kill delays; without it the seed comes from the clock and is
// logged, so that a failing run can be repeated.
package e2e
