package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/agora-ledger/agora/internal/tlog"
)

// MaxRequestSize bounds an add-checkpoint request body: a checkpoint with
// room for more than 16 post-quantum signatures, and a full proof.
const MaxRequestSize = 128 << 10

// sizeContentType is the type of a 409 response's body, the witness's
// latest cosigned size.
const sizeContentType = "text/x.tlog.size"

// MarshalRequest returns the body of an add-checkpoint request:
//
//	old <oldSize>\n
//	<base64 proof hash>\n    (one line per hash)
//	\n
//	<signed checkpoint>
func MarshalRequest(oldSize uint64, proof [][]byte, signedCheckpoint []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", oldSize)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(signedCheckpoint)
	return b.Bytes()
}

// ParseRequest parses the body of an add-checkpoint request strictly: a
// canonical decimal old size, at most MaxProofLines proof hashes of
// tlog.HashSize bytes in standard base64, an empty line, and a non-empty
// checkpoint (which AddCheckpoint verifies). Errors wrap ErrMalformed.
func ParseRequest(body []byte) (oldSize uint64, proof [][]byte, signedCheckpoint []byte, err error) {
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	size, found := strings.CutPrefix(string(line), "old ")
	if !ok || !found {
		return 0, nil, nil, fmt.Errorf("%w: the body must start with \"old <size>\\n\"", ErrMalformed)
	}
	if oldSize, err = strconv.ParseUint(size, 10, 64); err != nil || strconv.FormatUint(oldSize, 10) != size {
		return 0, nil, nil, fmt.Errorf("%w: old size %q is not a canonical decimal", ErrMalformed, size)
	}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return 0, nil, nil, fmt.Errorf("%w: no empty line before the checkpoint", ErrMalformed)
		}
		if len(line) == 0 {
			break
		}
		if len(proof) == MaxProofLines {
			return 0, nil, nil, fmt.Errorf("%w: more than %d proof lines", ErrMalformed, MaxProofLines)
		}
		h, err := base64.StdEncoding.Strict().DecodeString(string(line))
		if err != nil || len(h) != tlog.HashSize || base64.StdEncoding.EncodeToString(h) != string(line) {
			return 0, nil, nil, fmt.Errorf("%w: proof line %d is not a base64 hash", ErrMalformed, len(proof)+1)
		}
		proof = append(proof, h)
	}
	if len(rest) == 0 {
		return 0, nil, nil, fmt.Errorf("%w: no checkpoint", ErrMalformed)
	}
	return oldSize, proof, rest, nil
}

// StatusOf returns the HTTP status of an AddCheckpoint error, as C2SP
// tlog-witness sets them.
func StatusOf(err error) int {
	var maxErr *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &maxErr):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest
	case errors.Is(err, ErrBadSignature):
		return http.StatusForbidden
	case errors.Is(err, ErrUnknownLog):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrInvalidProof):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// NewHandler serves the witness's submission API:
//
//	POST /add-checkpoint
//
// Mount it under the witness's submission prefix with http.StripPrefix.
// Refusals that may be evidence of a misbehaving log (a conflict or a bad
// proof from a correctly signed checkpoint) are logged with the request.
func NewHandler(w *Witness, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxRequestSize))
		var cosig []byte
		if err == nil {
			cosig, err = w.addCheckpoint(body)
		}
		status := StatusOf(err)
		switch {
		case err == nil:
			rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
			rw.Write(cosig)
			return
		case status == http.StatusConflict:
			var c *ConflictError
			errors.As(err, &c)
			log.Warn("add-checkpoint: conflict", "err", err, "request", string(body))
			rw.Header().Set("Content-Type", sizeContentType)
			rw.WriteHeader(status)
			fmt.Fprintf(rw, "%d\n", c.Known)
			return
		case status == http.StatusUnprocessableEntity:
			log.Warn("add-checkpoint: consistency proof does not verify", "err", err, "request", string(body))
		case status == http.StatusInternalServerError:
			log.Error("add-checkpoint failed", "err", err)
			http.Error(rw, "internal error", status)
			return
		}
		http.Error(rw, err.Error(), status)
	})
	return mux
}

func (w *Witness) addCheckpoint(body []byte) ([]byte, error) {
	oldSize, proof, checkpoint, err := ParseRequest(body)
	if err != nil {
		return nil, err
	}
	return w.AddCheckpoint(oldSize, proof, checkpoint)
}

// Submit asks the witness whose add-checkpoint endpoint is url to cosign
// signedCheckpoint, proving it extends the checkpoint of size oldSize. It
// returns the witness's cosignature lines, to append to the checkpoint
// after checking them (cosig.VerifyCosigned). If the witness knows another size,
// the error is a *ConflictError with that size: get a proof from it and
// submit again.
func Submit(ctx context.Context, client *http.Client, url string, oldSize uint64, proof [][]byte, signedCheckpoint []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(MarshalRequest(oldSize, proof, signedCheckpoint)))
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxRequestSize))
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", url, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if !bytes.HasPrefix(body, []byte("— ")) || !bytes.HasSuffix(body, []byte("\n")) {
			return nil, fmt.Errorf("witness %s: response is not signature lines: %q", url, body)
		}
		return body, nil
	case http.StatusConflict:
		if resp.Header.Get("Content-Type") == sizeContentType {
			s, ok := strings.CutSuffix(string(body), "\n")
			if known, err := strconv.ParseUint(s, 10, 64); ok && err == nil {
				return nil, &ConflictError{Known: known, Reason: fmt.Sprintf("witness %s", url)}
			}
		}
		return nil, fmt.Errorf("witness %s: %w: %q", url, ErrConflict, body)
	}
	sentinel := map[int]error{
		http.StatusBadRequest:          ErrMalformed,
		http.StatusForbidden:           ErrBadSignature,
		http.StatusNotFound:            ErrUnknownLog,
		http.StatusUnprocessableEntity: ErrInvalidProof,
	}[resp.StatusCode]
	if sentinel == nil {
		return nil, fmt.Errorf("witness %s: %s: %q", url, resp.Status, bytes.TrimSpace(body))
	}
	return nil, fmt.Errorf("witness %s: %w: %s", url, sentinel, bytes.TrimSpace(body))
}
