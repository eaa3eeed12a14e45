// The other side of the cross-check (main.go runs it): reads Agora's presentations on
// stdin, verifies them with the OpenWallet Foundation's sd-jwt-js, then issues and
// presents an SD-JWT VC of its own for Agora to verify, and prints the results as JSON.
import { SDJwtInstance } from '@sd-jwt/core';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';

const input = JSON.parse(await new Promise((resolve) => {
  let s = '';
  process.stdin.on('data', (d) => { s += d; });
  process.stdin.on('end', () => resolve(s));
}));

// A verifier for one public JWK: ES256 through crypto-nodejs, EdDSA through jose, ES256K
// (which neither has) through node's own crypto (OpenSSL).
async function verifierFor(jwk) {
  if (jwk.crv === 'secp256k1') {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    return async (data, sig) => verify('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'));
  }
  if (jwk.kty === 'OKP') {
    const key = await importJWK(jwk, 'EdDSA');
    return async (data, sig) => {
      try {
        await compactVerify(`${data}.${sig}`, key, { algorithms: ['EdDSA'] });
        return true;
      } catch {
        return false;
      }
    };
  }
  return ES256.getVerifier(jwk);
}

const statusVerifier = await verifierFor(input.statusJwk);

function verifierInstance(issuerVerifier, statusListToken) {
  return new SDJwtVcInstance({
    hasher: digest,
    verifier: issuerVerifier,
    statusVerifier,
    kbVerifier: async (data, sig, payload) => (await verifierFor(payload.cnf.jwk))(data, sig),
    statusListFetcher: async (uri) => {
      if (uri !== input.statusListURI) throw new Error(`unexpected status list ${uri}`);
      return statusListToken;
    },
  });
}

const out = { verified: [] };
for (const p of input.presentations) {
  const v = verifierInstance(await verifierFor(p.issuerJwk), p.statusListToken);
  try {
    const r = await v.verify(p.presentation, { keyBindingNonce: input.nonce, currentDate: input.now });
    if (r.kb.payload.aud !== input.aud) throw new Error(`KB-JWT aud ${r.kb.payload.aud}`);
    if (r.header.typ !== 'dc+sd-jwt') throw new Error(`typ ${r.header.typ}`);
    out.verified.push({ name: p.name, ok: true, claims: r.payload });
  } catch (e) {
    out.verified.push({ name: p.name, ok: false, error: String(e.message ?? e) });
  }
}

// Theirs: claims like Agora's, issued and presented with ES256 keys (crypto-nodejs) and
// with ES256K keys (node's crypto, whose ECDSA signatures have a high S half the time).
async function keysFor(alg) {
  if (alg === 'ES256') {
    const { publicKey, privateKey } = await ES256.generateKeyPair();
    return { publicKey, signer: await ES256.getSigner(privateKey) };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  return {
    publicKey: publicKey.export({ format: 'jwk' }),
    signer: async (data) => sign('sha256', Buffer.from(data), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url'),
  };
}

out.theirs = [];
for (const alg of ['ES256', 'ES256K']) {
  const issuer = await keysFor(alg);
  const holder = await keysFor(alg);
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    saltGenerator: generateSalt,
    signer: issuer.signer,
    signAlg: alg,
    kbSigner: holder.signer,
    kbSignAlg: alg,
  });
  const issued = await sdjwt.issue(
    {
      iss: 'https://sd-jwt-js.example',
      iat: input.now,
      vct: 'https://credentials.example/membership',
      cnf: { jwk: holder.publicKey },
      member_name: 'Ada',
      address: { locality: 'London', country: 'GB' },
      roles: ['board', 'audit'],
    },
    {
      _sd: ['member_name', 'address', 'roles'],
      address: { _sd: ['locality', 'country'] },
      roles: { _sd: [0, 1] },
    },
  );
  out.theirs.push({
    alg,
    issuerJwk: issuer.publicKey,
    presentation: await sdjwt.present(
      issued,
      { member_name: true, address: { locality: true }, roles: { 1: true } },
      { kb: { payload: { aud: input.aud, nonce: input.nonce, iat: input.now } } },
    ),
  });
}
// Agora's W3C form: the vc+sd-jwt credential under the issuer's key and the holder's
// vp+sd-jwt presentation under the holder's, each verified by @sd-jwt/core (signature,
// disclosure digests, times) with jose doing EdDSA; the presentation must envelope exactly
// that credential.
try {
  const core = async (jwk) => new SDJwtInstance({ hasher: digest, verifier: await verifierFor(jwk) });
  const cred = await (await core(input.w3c.issuerJwk)).verify(input.w3c.credential, { currentDate: input.now });
  const vp = await (await core(input.w3c.holderJwk)).verify(input.w3c.presentation, { currentDate: input.now });
  out.w3c = { ok: true, credential: cred.payload, presentation: vp.payload, types: [cred.header?.typ, vp.header?.typ] };
} catch (e) {
  out.w3c = { ok: false, error: String(e.message ?? e) };
}

// Agora's status list token on its own: jose verifies it under the key its
// header carries, which must be the status key given; jwt-status-list reads it.
try {
  const token = input.presentations[0].statusListToken;
  const header = decodeProtectedHeader(token);
  if (JSON.stringify({ crv: header.jwk?.crv, x: header.jwk?.x }) !== JSON.stringify({ crv: input.statusJwk.crv, x: input.statusJwk.x })) {
    throw new Error('the jwk header is not the status key');
  }
  const { payload } = await compactVerify(token, await importJWK(header.jwk, 'EdDSA'));
  const claims = JSON.parse(new TextDecoder().decode(payload));
  const list = getListFromStatusListJWT(token);
  const statuses = [];
  for (let i = 0; i < 16; i++) statuses.push(list.getStatus(i));
  out.token = { header, sub: claims.sub, iss: claims.iss, statuses };
} catch (e) {
  out.token = { error: String(e.message ?? e) };
}
process.stdout.write(JSON.stringify(out));
