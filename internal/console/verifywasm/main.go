//go:build js && wasm

// Command verifywasm is the console's in-browser verifier: the verify
// package compiled to WebAssembly (assets/verify.wasm, which go generate
// in internal/console rebuilds). It sets globalThis.agoraVerify to an
// object of functions that take and return JSON strings, then calls
// globalThis.agoraVerifyReady():
//
//	answer(path, body, trust, nowMs)  a module query's proof=1 answer
//	tx(body, trust, claim, nowMs)     a transaction's proof=1 answer
//	checkpoint(text, trust, nowMs)    a signed checkpoint
//	sha256(bytes)                     a Uint8Array's SHA-256, in hex
//
// trust is {"log_key": KEY}, with "witnesses": [KEY...] that must all
// have cosigned, or {"validators": [...]}, a network's validator set; claim is
// a wire.TxClaim, what the page shows of the transaction. Each check answers a verify.Report as JSON.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"syscall/js"

	"github.com/agora-ledger/agora/internal/console/check"
)

func main() {
	str := func(f func(args []js.Value) string) js.Func {
		return js.FuncOf(func(_ js.Value, args []js.Value) any { return f(args) })
	}
	api := js.Global().Get("Object").New()
	api.Set("answer", str(func(a []js.Value) string {
		return check.Answer(a[0].String(), []byte(a[1].String()), a[2].String(), int64(a[3].Float()))
	}))
	api.Set("tx", str(func(a []js.Value) string {
		return check.Tx([]byte(a[0].String()), a[1].String(), a[2].String(), int64(a[3].Float()))
	}))
	api.Set("checkpoint", str(func(a []js.Value) string {
		return check.Checkpoint([]byte(a[0].String()), a[1].String(), int64(a[2].Float()))
	}))
	api.Set("sha256", str(func(a []js.Value) string {
		b := make([]byte, a[0].Get("length").Int())
		js.CopyBytesToGo(b, a[0])
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:])
	}))
	js.Global().Set("agoraVerify", api)
	js.Global().Call("agoraVerifyReady")
	select {}
}
