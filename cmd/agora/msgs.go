package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
)

// The commands every module gets from its declared message types
// (ledger.Declarer): 'agora MODULE types' and 'agora MODULE send'. They
// are generated, so a module with no hand-written command still has
// them; a module's own command named MODULE keeps its subcommands and
// gains these two (see msgCommands).

const msgUsage = `
Usage:
  agora %[1]s types
  agora %[1]s send TYPE BODY.json --key NAME [--key NAME ...]

types lists the %[1]s module's message types: what each does and an
example of its JSON body. send signs the message TYPE with the body in
BODY.json ('-' reads it from stdin) by every key NAME, submits it and
waits until it is committed. The body is checked as the ledger checks it
(unknown fields are errors) before anything is signed.

Examples:
  agora %[1]s types
  agora %[1]s send %[2]s body.json --key alice
`

// msgCommands returns the command named after module: 'types' and 'send'
// reach the generated commands, anything else run, the module's own
// command (nil if it has none: then only the generated ones).
func msgCommands(module string, types []ledger.MsgType, run command) command {
	text := fmt.Sprintf(msgUsage, module, types[0].Name)
	return func(args []string, stdout, stderr io.Writer) error {
		if len(args) > 0 {
			switch args[0] {
			case "types":
				return msgTypesCmd(module, types, text, args[1:], stdout, stderr)
			case "send":
				return msgSend(module, types, text, args[1:], stdout, stderr)
			}
		}
		if run != nil {
			return run(args, stdout, stderr)
		}
		if len(args) == 0 || isHelp(args[0]) {
			fmt.Fprint(stderr, strings.TrimLeft(text, "\n"))
			if len(args) > 0 {
				return flag.ErrHelp
			}
			return &exitError{code: 2}
		}
		return usageError("unknown %s command %q (want types or send)", module, args[0])
	}
}

// msgTypesCmd lists module's message types, in their declared order,
// each with its summary and an example body (the zero message as JSON).
func msgTypesCmd(module string, types []ledger.MsgType, text string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(module+" types", text, stderr)
	asJSON := fs.Bool("json", false, "print the types as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("usage: agora %s types", module)
	}
	type typeJSON struct {
		Name    string     `json:"name"`
		Summary string     `json:"summary"`
		Body    ledger.Msg `json:"body"`
	}
	out := make([]typeJSON, len(types))
	for i, t := range types {
		out[i] = typeJSON{t.Name, t.Summary, t.New()}
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	for _, t := range out {
		example, err := json.Marshal(t.Body)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n  %s\n  body: %s\n", t.Name, t.Summary, example)
	}
	return nil
}

// msgSend submits a message of module, built from its JSON form.
func msgSend(module string, types []ledger.MsgType, text string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags(module+" send", text, stderr)
	homeDir, nodeURL := homeFlag(fs), nodeFlag(fs)
	var keys stringList
	fs.Var(&keys, "key", "a key `NAME` that signs (repeatable; at least one)")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("usage: agora %s send TYPE BODY.json --key NAME ('agora %s types' lists the types)", module, module)
	}
	if len(keys) == 0 {
		return usageError("--key NAME is required: the key that signs (see 'agora keys list')")
	}
	typ, file := pos[0], pos[1]
	var raw []byte
	if file == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(file)
	}
	if err != nil {
		return err
	}
	msg, err := ledger.MsgFromJSON(types, typ, raw)
	if errors.Is(err, ledger.ErrUnknownType) {
		return ledger.WithHint(fmt.Errorf("%s: %w", module, err), fmt.Sprintf("'agora %s types' lists the types and their bodies", module))
	}
	if err != nil {
		return ledger.WithHint(fmt.Errorf("%s: %w", file, err), fmt.Sprintf("'agora %s types' shows an example body of %s", module, typ))
	}
	res, err := signAndSubmitAll(*homeDir, *nodeURL, keys, module, typ, msg, *ttl, stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, res)
	}
	printResult(stdout, module+" "+typ, res)
	return nil
}

// moduleCommands returns e's commands with the generated ones: a command
// named after the module gains 'types' and 'send'; a module without one
// gets one that has only them.
func moduleCommands(e moduleEntry) []cliCommand {
	cmds := slices.Clone(e.commands)
	d, ok := e.module(nil).(ledger.Declarer)
	if !ok {
		return cmds
	}
	for i, c := range cmds {
		if c.name == e.name {
			cmds[i].run = msgCommands(e.name, d.MsgTypes(), c.run)
			return cmds
		}
	}
	return append(cmds, cliCommand{e.name, msgCommands(e.name, d.MsgTypes(), nil), e.name + " types|send",
		"list and send the " + e.name + " module's message types"})
}
