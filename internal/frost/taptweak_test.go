package frost

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

// bip341Vectors are the scriptPubKey cases of BIP-341's
// wallet-test-vectors.json (bitcoin/bips at commit
// 7fe0b034ec967b52a5a28276419117326df93263, BSD-3-Clause): internal key,
// Merkle root (empty: key path only), tweak and output key.
var bip341Vectors = []struct{ internal, merkleRoot, tweak, output string }{
	{"d6889cb081036e0faefa3a35157ad71086b123b2b144b649798b494c300a961d", "", "b86e7be8f39bab32a6f2c0443abbc210f0edac0e2c53d501b36b64437d9c6c70", "53a1f6e454df1aa2776a2814a721372d6258050de330b3c6d10ee8f4e0dda343"},
	{"187791b6f712a8ea41c8ecdd0ee77fab3e85263b37e1ec18a3651926b3a6cf27", "5b75adecf53548f3ec6ad7d78383bf84cc57b55a3127c72b9a2481752dd88b21", "cbd8679ba636c1110ea247542cfbd964131a6be84f873f7f3b62a777528ed001", "147c9c57132f6e7ecddba9800bb0c4449251c92a1e60371ee77557b6620f3ea3"},
	{"93478e9488f956df2396be2ce6c5cced75f900dfa18e7dabd2428aae78451820", "c525714a7f49c28aedbbba78c005931a81c234b2f6c99a73e4d06082adc8bf2b", "6af9e28dbf9d6aaf027696e2598a5b3d056f5fd2355a7fd5a37a0e5008132d30", "e4d810fd50586274face62b8a807eb9719cef49c04177cc6b76a9a4251d5450e"},
	{"ee4fe085983462a184015d1f782d6a5f8b9c2b60130aff050ce221ecf3786592", "6c2dc106ab816b73f9d07e3cd1ef2c8c1256f519748e0813e4edd2405d277bef", "9e0517edc8259bb3359255400b23ca9507f2a91cd1e4250ba068b4eafceba4a9", "712447206d7a5238acc7ff53fbe94a3b64539ad291c7cdbc490b7577e4b17df5"},
	{"f9f400803e683727b14f463836e1e78e1c64417638aa066919291a225f0e8dd8", "ab179431c28d3b68fb798957faf5497d69c883c6fb1e1cd9f81483d87bac90cc", "639f0281b7ac49e742cd25b7f188657626da1ad169209078e2761cefd91fd65e", "77e30a5522dd9f894c3f8b8bd4c4b2cf82ca7da8a3ea6a239655c39c050ab220"},
	{"e0dfe2300b0dd746a3f8674dfd4525623639042569d829c7f0eed9602d263e6f", "ccbd66c6f7e8fdab47b3a486f59d28262be857f30d4773f2d5ea47f7761ce0e2", "b57bfa183d28eeb6ad688ddaabb265b4a41fbf68e5fed2c72c74de70d5a786f4", "91b64d5324723a985170e4dc5a0f84c041804f2cd12660fa5dec09fc21783605"},
	{"55adf4e8967fbd2e29f20ac896e60c3b0f1d5b0efa9d34941b5958c7b0a0312d", "2f6b2c5397b6d68ca18e09a3f05161668ffe93a988582d55c6f07bd5b3329def", "6579138e7976dc13b6a92f7bfd5a2fc7684f5ea42419d43368301470f3b74ed9", "75169f4001aa68f15bbed28b218df1d0a62cbbcf1188c6665110c293c907b831"},
}

func TestTapTweakBIP341Vectors(t *testing.T) {
	for _, v := range bip341Vectors {
		t.Run(v.internal[:8], func(t *testing.T) {
			p, err := Secp256k1Taproot.g.decodeElement(append([]byte{0x02}, unhex(t, v.internal)...))
			if err != nil {
				t.Fatal(err)
			}
			root := unhex(t, v.merkleRoot)
			tw, err := tapTweak(unhex(t, v.internal), root)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tw.bytes(), unhex(t, v.tweak)) {
				t.Fatalf("tweak %x, want %s", tw.bytes(), v.tweak)
			}
			pub := &PublicKeyPackage{suite: Secp256k1Taproot, minSigners: 2, groupKey: p}
			q, err := pub.TapTweak(root)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(q.GroupKey(), unhex(t, v.output)) {
				t.Fatalf("output key %x, want %s", q.GroupKey(), v.output)
			}
		})
	}
}

// TestTapTweakSigning signs with tweaked key packages, for keys of both
// parities, and checks the signatures under the output key with btcec.
func TestTapTweakSigning(t *testing.T) {
	rnd := testRand(11)
	msg := []byte("thirty-two bytes of message hash")
	root := bytes.Repeat([]byte{7}, 32)
	var odd int
	for i := range 8 {
		keys, pub, err := Secp256k1Taproot.Deal(rnd, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if pub.groupKey.(*k1Element).oddY() {
			odd++
		}
		mr := root
		if i%2 == 0 {
			mr = nil
		}
		qpub, err := pub.TapTweak(mr)
		if err != nil {
			t.Fatal(err)
		}
		var tweaked []*KeyPackage
		for _, k := range keys[1:] {
			tk, err := k.TapTweak(mr)
			if err != nil {
				t.Fatal(err)
			}
			if !tk.Public().Equal(qpub) {
				t.Fatal("a tweaked key package's public keys differ from the tweaked public keys")
			}
			tweaked = append(tweaked, tk)
		}
		sig, _, _ := signWith(t, rnd, qpub, tweaked, msg)
		verifyExternally(t, Secp256k1Taproot, qpub.GroupKey(), msg, sig)
		if err := Secp256k1Taproot.Verify(pub.GroupKey(), msg, sig); err == nil {
			t.Fatal("the signature under the output key also verifies under the internal key")
		}
	}
	if odd == 0 || odd == 8 {
		t.Fatalf("key parities not both covered: %d odd of 8", odd)
	}
	_, pub, _ := Ed25519.Deal(rnd, 2, 3)
	if _, err := pub.TapTweak(nil); !errors.Is(err, ErrParameters) {
		t.Fatalf("tweak of an Ed25519 group: %v", err)
	}
	_, tpub, _ := Secp256k1Taproot.Deal(rnd, 2, 3)
	if _, err := tpub.TapTweak([]byte{1, 2, 3}); !errors.Is(err, ErrParameters) {
		t.Fatalf("3-byte Merkle root: %v", err)
	}
}

// TestBIP340Vectors runs the BIP-340 suite's Verify, which the ledger calls
// on Taproot signatures, over BIP-340's official vectors, the failures
// included (keys and R off the curve, s or x above their bounds, odd R,
// wrong messages).
func TestBIP340Vectors(t *testing.T) {
	for _, row := range readBIP340Vectors(t)[1:] {
		t.Run(row[0], func(t *testing.T) {
			want := row[6] == "TRUE"
			err := Secp256k1Taproot.Verify(unhex(t, row[2]), unhex(t, row[4]), unhex(t, row[5]))
			if (err == nil) != want {
				t.Fatalf("%s: Verify = %v, want valid = %v", row[7], err, want)
			}
		})
	}
}

// FuzzVerifyMatchesBIP340 holds the BIP-340 suite's Verify to btcec's
// BIP-340 verifier on every key, 32-byte message and signature.
func FuzzVerifyMatchesBIP340(f *testing.F) {
	rnd := testRand(12)
	msg := []byte("thirty-two bytes of message hash")
	keys, pub, err := Secp256k1Taproot.Deal(rnd, 2, 2)
	if err != nil {
		f.Fatal(err)
	}
	sig, _, _ := signWith(f, rnd, pub, keys, msg)
	f.Add(pub.GroupKey(), msg, sig)
	for _, row := range readBIP340Vectors(f)[1:] {
		var fields [3][]byte
		for i, col := range []int{2, 4, 5} {
			b, err := hex.DecodeString(row[col])
			if err != nil {
				f.Fatal(err)
			}
			fields[i] = b
		}
		f.Add(fields[0], fields[1], fields[2])
	}
	f.Fuzz(func(t *testing.T, key, msg, sig []byte) {
		if len(key) != 32 || len(msg) != 32 || len(sig) != 64 {
			return
		}
		ours := Secp256k1Taproot.Verify(key, msg, sig) == nil
		theirs := false
		if pk, err := schnorr.ParsePubKey(key); err == nil {
			if s, err := schnorr.ParseSignature(sig); err == nil {
				theirs = s.Verify(msg, pk)
			}
		}
		if ours != theirs {
			t.Fatalf("key %x msg %x sig %x: ours %v, btcec %v", key, msg, sig, ours, theirs)
		}
	})
}

// readBIP340Vectors reads BIP-340's vectors: a header, then index, secret
// key, public key, aux_rand, message, signature, result, comment.
func readBIP340Vectors(t testing.TB) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "bip340-test-vectors.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 {
		t.Fatal("no vectors")
	}
	return rows
}
