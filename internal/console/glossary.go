package console

// glossary is the console's own terms; sections add theirs.
var glossary = []Term{
	{"Ledger", "The shared record that the stakeholders keep together. Nothing in it is ever erased: a change is a new entry."},
	{"Transaction", "One signed request to change the ledger, such as registering an identity or voting on a change. Its hash (a long code of letters and digits) names it."},
	{"Block", "A batch of transactions that the ledger accepted at one moment. Blocks are numbered from 0; the number is the block's height."},
	{"Height", "The number of a block: how many blocks came before it."},
	{"Signature", "Proof that the holder of a key approved exactly this content. Anyone can check it with the matching public key; nobody can forge it without the secret key."},
	{"Key", "A pair of numbers: a secret one that signs, kept by its holder, and a public one that anyone uses to check the signatures."},
	{"Checkpoint", "A short statement, signed by the ledger's key, of how many transactions the ledger holds and a fingerprint of all of them and of the current state. Every fact on these pages can be checked against one."},
	{"Witness", "An independent party that countersigns checkpoints after checking that the ledger only grew and never rewrote its past."},
	{"Validator", "A computer run by one of the organisations that keep the ledger. A checkpoint of a network counts when validators holding more than two thirds of the votes signed it."},
	{"Proof", "A few fingerprints that let your browser check, by itself, that a fact shown on a page is part of the state a checkpoint fingerprints. It does not need to trust the computer that sent the page."},
	{"Checked in your browser", "Your browser ran the check itself, with a program that came with the page: it does not take the node's word for it. What it trusts is the ledger's key, which it remembers from your first visit."},
	{"Hash, digest, fingerprint", "A short code computed from some data. Any change to the data changes the code, so equal codes mean equal data. A file's SHA-256 digest identifies the file without revealing it."},
	{"Log", "The list of every transaction, in order, which only ever grows."},
}
