package custodycli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/cli"
	"github.com/agora-ledger/agora/internal/custody"
	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/verify"
)

// keyOp proposes a rotation or a destruction.
func keyOp(kind string, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody "+kind, usage, stderr)
	c := commonFlags(fs)
	proposer := fs.String("proposer", "", "your `DID`, in the policy's change group")
	reason := fs.String("reason", "", "why, for the audit log")
	var holders *string
	var threshold *uint
	if kind == custody.OpRotate {
		holders = fs.String("holders", "", "the new holders' `DIDs`, comma-separated (old ones may stay)")
		threshold = fs.Uint("threshold", 0, "how many of the new holders sign (t of n)")
	}
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora custody %s WALLET --key NAME --proposer DID ...", kind)
	}
	body := &custody.KeyOp{Wallet: pos[0], Proposer: *proposer, Reason: *reason}
	if kind == custody.OpRotate {
		body.Holders, body.Threshold = splitList(*holders), uint16(*threshold)
		if len(body.Holders) == 0 {
			return cli.UsageError("--holders DID,DID,... is required: the new holders")
		}
	}
	return c.submit(kind, body, stdout, stderr)
}

// operation shows or approves the wallet's proposed key operation.
func operation(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "show" && args[0] != "approve") {
		return cli.UsageError("usage: agora custody operation show|approve WALLET ...")
	}
	fs := cli.NewFlags("custody operation "+args[0], usage, stderr)
	if args[0] == "approve" {
		c := commonFlags(fs)
		approver := fs.String("approver", "", "your `DID`, in the policy's change group")
		pos, err := cli.Parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return cli.UsageError("usage: agora custody operation approve WALLET --key NAME --approver DID")
		}
		return c.submit("approve_op", &custody.ApproveOp{Wallet: pos[0], Approver: *approver}, stdout, stderr)
	}
	r := readerFlags(fs)
	pos, err := cli.Parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return cli.UsageError("usage: agora custody operation show WALLET")
	}
	var op custody.Operation
	cp, err := r.query(context.Background(), "operation", map[string]string{"wallet": pos[0]}, &op)
	if err != nil {
		return err
	}
	if *r.asJSON {
		return cli.PrintJSON(stdout, &op)
	}
	fmt.Fprintf(stdout, "%s of wallet %s\n  proposer   %s\n", op.Kind, pos[0], op.Proposer)
	if op.Kind == custody.OpRotate {
		fmt.Fprintf(stdout, "  to         %d of %s\n", op.Threshold, strings.Join(op.Holders, ","))
	}
	if op.Reason != "" {
		fmt.Fprintf(stdout, "  reason     %s\n", op.Reason)
	}
	for _, a := range op.Approvers {
		fmt.Fprintf(stdout, "  approved   by %s\n", a)
	}
	if op.Effective != 0 {
		fmt.Fprintf(stdout, "  effective  %s\n", time.UnixMilli(op.Effective).UTC().Format(time.RFC3339))
	}
	provenLine(stdout, cp)
	return nil
}

// rotation shows a rotation of the wallet's holders (the last one by
// default), and waits for it to end with --wait.
func rotation(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("custody rotation", usage, stderr)
	r := readerFlags(fs)
	wait := fs.String("wait", "", "wait until the rotation is `done` (or failed)")
	timeout := fs.Duration("timeout", time.Minute, "with --wait: give up after this long (exit 1)")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return cli.UsageError("usage: agora custody rotation WALLET [N]")
	}
	ctx := context.Background()
	n := ""
	if len(pos) == 2 {
		if _, err := requestNumber(pos[1]); err != nil {
			return err
		}
		n = pos[1]
	} else {
		var w custody.Wallet
		if _, err := r.query(ctx, "wallet", map[string]string{"wallet": pos[0]}, &w); err != nil {
			return err
		}
		if w.Rotations == 0 {
			return &cli.ExitError{Code: 1, Err: fmt.Errorf("wallet %s has had no rotation", w.ID)}
		}
		n = strconv.FormatUint(w.Rotations, 10)
	}
	var rot custody.Rotation
	deadline := time.Now().Add(*timeout)
	var cp *verify.Checkpoint
	for {
		rot = custody.Rotation{}
		got, err := r.query(ctx, "rotation", map[string]string{"wallet": pos[0], "n": n}, &rot)
		switch {
		case err == nil:
			cp = got
		case *wait != "" && errors.Is(err, ledger.ErrNotFound) && time.Now().Before(deadline):
			time.Sleep(200 * time.Millisecond) // the approved rotation has not started yet
			continue
		default:
			return err
		}
		if *wait == "" || rot.State == *wait {
			break
		}
		if rot.State != custody.RotationOpen || time.Now().After(deadline) {
			return &cli.ExitError{Code: 1, Err: fmt.Errorf("rotation %s of %s is %s, not %s %s", n, pos[0], rot.State, *wait, rot.Reason)}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if *r.asJSON {
		return cli.PrintJSON(stdout, &rot)
	}
	fmt.Fprintf(stdout, "rotation %d of wallet %s\n  state      %s\n  to         %d of %d\n", rot.N, pos[0], rot.State, rot.Threshold, len(rot.Holders))
	if rot.Reason != "" {
		fmt.Fprintf(stdout, "  reason     %s\n", rot.Reason)
	}
	for _, d := range rot.Dealers {
		st := "joined"
		if d.Round1 != nil {
			st += ",round1"
		}
		if d.Dealt {
			st += ",dealt"
		}
		fmt.Fprintf(stdout, "  dealer %d   %s %s\n", d.ID, d.DID, st)
	}
	for _, h := range rot.Holders {
		var st []string
		if h.HPKE != nil {
			st = append(st, "joined")
		}
		if slices.Contains(rot.Accepted, h.ID) {
			st = append(st, "accepted")
		}
		fmt.Fprintf(stdout, "  new %d      %s %s\n", h.ID, h.DID, strings.Join(st, ","))
	}
	provenLine(stdout, cp)
	return nil
}
