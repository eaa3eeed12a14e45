package cometbft

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
)

// GenerateKeys writes a new node's CometBFT keys under home (see Dir): its
// consensus key, which a genesis names to make it a validator, and its
// peer-to-peer key, whose ID its peers' configuration names. It returns
// the consensus public key (Ed25519) and the node ID. CometBFT keeps both
// keys in its own JSON files, unencrypted and readable only by the owner;
// the node's checkpoint key stays in the keystore, encrypted.
func GenerateKeys(home string) (pubKey []byte, nodeID string, err error) {
	root := filepath.Join(home, Dir)
	keyFile := filepath.Join(root, "config", "priv_validator_key.json")
	if _, err := os.Stat(keyFile); err == nil {
		return nil, "", fmt.Errorf("%s already exists", keyFile)
	}
	for _, d := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, "", err
		}
	}
	pv := privval.GenFilePV(keyFile, filepath.Join(root, "data", "priv_validator_state.json"))
	pv.Save()
	nk, err := p2p.LoadOrGenNodeKey(filepath.Join(root, "config", "node_key.json"))
	if err != nil {
		return nil, "", err
	}
	return pv.Key.PubKey.Bytes(), string(nk.ID()), nil
}

// ConsensusKey returns the consensus public key (Ed25519) that
// GenerateKeys wrote under home: what a genesis or a governance action
// names to make the node a validator.
func ConsensusKey(home string) ([]byte, error) {
	path := filepath.Join(home, Dir, "config", "priv_validator_key.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("consensus key: %w\nhint: 'agora testnet init' writes the homes of a network", err)
	}
	var f struct {
		PubKey struct {
			Type  string `json:"type"`
			Value []byte `json:"value"`
		} `json:"pub_key"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.PubKey.Type != "tendermint/PubKeyEd25519" || len(f.PubKey.Value) != 32 {
		return nil, fmt.Errorf("%s: not an Ed25519 consensus key", path)
	}
	return f.PubKey.Value, nil
}
