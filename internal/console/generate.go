package console

// The in-browser verifier, rebuilt reproducibly: no paths, no build ID, no
// VCS stamp, no symbols. TestVerifierIsFresh fails when the committed
// assets/verify.wasm is not what this line builds now; verify.wasm.stamp
// records the Go version that built it. wasm_exec.js is that Go's.
//go:generate sh -c "GOOS=js GOARCH=wasm CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o assets/verify.wasm ./verifywasm && go version | cut -d' ' -f3 > assets/verify.wasm.stamp && cp \"$(go env GOROOT)/lib/wasm/wasm_exec.js\" assets/wasm_exec.js"
