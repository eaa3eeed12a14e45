package api

import "github.com/agora-ledger/agora/internal/api/wire"

// The API's bodies are package wire's, shared with package client; these
// names keep the server's code and its callers' short.
type (
	Error          = wire.Error
	SubmitRequest  = wire.SubmitRequest
	SubmitResponse = wire.SubmitResponse
	TxCommit       = wire.TxCommit
	BatchRequest   = wire.BatchRequest
	BatchResponse  = wire.BatchResponse
	BatchItem      = wire.BatchItem
	TxStatus       = wire.TxStatus
	TxView         = wire.TxView
	SignerView     = wire.SignerView
	BlockView      = wire.BlockView
	BlockTx        = wire.BlockTx
	AccountView    = wire.AccountView
	Info           = wire.Info
	Health         = wire.Health
	Proven         = wire.Proven
	EventView      = wire.Event
	EventsView     = wire.Events
)
