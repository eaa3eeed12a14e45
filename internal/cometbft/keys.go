package cometbft

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"

	"github.com/agora-ledger/agora/internal/ledger"
)

// Keys are a network node's two CometBFT keys. They are kept in the
// node's keystore, encrypted at rest like its checkpoint key, and handed
// to CometBFT in memory: CometBFT's own key files
// (priv_validator_key.json, node_key.json) are not used.
type Keys struct {
	// Consensus signs the node's proposals and votes; a genesis or a
	// ratified governance change names its public key to make the node
	// a validator.
	Consensus ed25519.PrivateKey
	// P2P authenticates the node to its peers, whose configuration names
	// its ID (NodeID).
	P2P ed25519.PrivateKey
}

// NodeID is the peer-to-peer ID of the node whose P2P public key is pub,
// as peers name it in "<node id>@<host>:<port>".
func NodeID(pub ed25519.PublicKey) string {
	return string(p2p.PubKeyToID(cmted25519.PubKey(pub)))
}

// signStateFile is where CometBFT's guard against double signing keeps
// the last height, round and step the consensus key signed, with that
// signature.
func signStateFile(home string) string {
	return filepath.Join(home, Dir, "data", "priv_validator_state.json")
}

// InitSignState writes the empty sign state of a new node's consensus key
// under home. New refuses to start a node without its sign state: a
// validator that lost it could sign twice at a height it signed before.
func InitSignState(home string) (err error) {
	path := signStateFile(home)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already exists", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	defer func() { // CometBFT's Save panics on a write error
		if r := recover(); r != nil {
			err = fmt.Errorf("write %s: %v", path, r)
		}
	}()
	// The state holds no key; any key makes the FilePV that writes it.
	privval.NewFilePV(cmted25519.GenPrivKey(), "", path).LastSignState.Save()
	return nil
}

// signer is the consensus key with the sign state InitSignState wrote
// and CometBFT has kept since, under home.
func signer(home string, key ed25519.PrivateKey) (*privval.FilePV, error) {
	path := signStateFile(home)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ledger.WithHint(fmt.Errorf("no sign state for the consensus key at %s: refusing to start a validator that could sign twice", path),
			"'agora testnet init' writes it with the node's keys; restore it from a backup of this home")
	}
	if err != nil {
		return nil, err
	}
	var st privval.FilePVLastSignState
	if err := cmtjson.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// No key file: the key stays in memory, and nothing saves it.
	pv := privval.NewFilePV(cmted25519.PrivKey(key), "", path)
	pv.LastSignState.Height, pv.LastSignState.Round, pv.LastSignState.Step = st.Height, st.Round, st.Step
	pv.LastSignState.Signature, pv.LastSignState.SignBytes = st.Signature, st.SignBytes
	return pv, nil
}
