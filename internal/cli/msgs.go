package cli

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
// gains these two (see ModuleCommands).

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
func msgCommands(module string, types []ledger.MsgType, run RunFunc) RunFunc {
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
		if len(args) == 0 || IsHelp(args[0]) {
			fmt.Fprint(stderr, strings.TrimLeft(text, "\n"))
			if len(args) > 0 {
				return flag.ErrHelp
			}
			return &ExitError{Code: 2}
		}
		return UsageError("unknown %s command %q (want types or send)", module, args[0])
	}
}

// msgTypesCmd lists module's message types, in their declared order,
// each with its summary and an example body (the zero message as JSON).
func msgTypesCmd(module string, types []ledger.MsgType, text string, args []string, stdout, stderr io.Writer) error {
	fs := NewFlags(module+" types", text, stderr)
	asJSON := fs.Bool("json", false, "print the types as JSON")
	pos, err := Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return UsageError("usage: agora %s types", module)
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
		return PrintJSON(stdout, out)
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
	fs := NewFlags(module+" send", text, stderr)
	homeDir, nodeURL := HomeFlag(fs), NodeFlag(fs)
	var keys StringList
	fs.Var(&keys, "key", "a key `NAME` that signs (repeatable; at least one)")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the signed transaction stays valid")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return UsageError("usage: agora %s send TYPE BODY.json --key NAME ('agora %s types' lists the types)", module, module)
	}
	if len(keys) == 0 {
		return UsageError("--key NAME is required: the key that signs (see 'agora keys list')")
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
	res, err := SignAndSubmitAll(*homeDir, *nodeURL, keys, module, typ, msg, *ttl, stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return PrintJSON(stdout, res)
	}
	PrintResult(stdout, module+" "+typ, res)
	return nil
}

// ModuleCommands returns the commands of the module called module, cmds
// (its hand-written ones, in usage order), with those generated from its
// declared message types: a command named after the module gains 'types'
// and 'send'; a module without one gets one that has only them. A module
// that declares no types (types empty) has only cmds.
func ModuleCommands(module string, types []ledger.MsgType, cmds []Command) []Command {
	cmds = slices.Clone(cmds)
	if len(types) == 0 {
		return cmds
	}
	for i, c := range cmds {
		if c.Name == module {
			cmds[i].Run = msgCommands(module, types, c.Run)
			return cmds
		}
	}
	return append(cmds, Command{Name: module, Run: msgCommands(module, types, nil), Usage: module + " types|send",
		Summary: "list and send the " + module + " module's message types"})
}
