#include "jwt_verifier.h"

#include <jansson.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <cstring>
#include <strings.h>

namespace sw {

namespace {

constexpr size_t kMaxTokenBytes = 8192;  // a request head holds no more

struct JsonFree {
  void operator()(json_t *j) const { json_decref(j); }
};
using JsonPtr = std::unique_ptr<json_t, JsonFree>;
struct JwtFree {
  void operator()(jwt_t *j) const { jwt_free(j); }
};

bool b64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A base64url part of the token (already checked to hold only base64url
// characters), decoded by OpenSSL's base64 after mapping the alphabet.
bool b64url_decode(std::string_view part, std::string &raw) {
  std::string b64(part);
  for (auto &c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  size_t pad = (4 - b64.size() % 4) % 4;
  if (pad == 3) return false;
  b64.append(pad, '=');
  raw.assign(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(&raw[0]),
                          reinterpret_cast<const unsigned char *>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0 || static_cast<size_t>(n) < pad) return false;
  raw.resize(static_cast<size_t>(n) - pad);
  return true;
}

// A part holding a JSON object (the JOSE header; for PS* the claims too).
// The header is read to name the reason when a token is refused (libjwt
// says EINVAL for everything) and to check its alg against the key.
JsonPtr b64url_json(std::string_view part) {
  std::string raw;
  if (!b64url_decode(part, raw)) return nullptr;
  return JsonPtr(json_loadb(raw.data(), raw.size(), JSON_REJECT_DUPLICATES, nullptr));
}

// RSASSA-PSS (PS256/384/512, RFC 7518 3.5), which libjwt 1.10 lacks:
// OpenSSL's EVP verifies it, salt length = digest length.
bool verify_pss(const std::string &pem, const std::string &alg, std::string_view signed_part,
                std::string_view sig_b64) {
  std::string sig;
  if (!b64url_decode(sig_b64, sig)) return false;
  const EVP_MD *md = alg == "PS256" ? EVP_sha256() : alg == "PS384" ? EVP_sha384() : EVP_sha512();
  BIO *bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = nullptr;
  bool ok =
      key && ctx && EVP_DigestVerifyInit(ctx, &pctx, md, nullptr, key) == 1 &&
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char *>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char *>(signed_part.data()), signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

std::string dump(const json_t *v) {
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  std::string out = s ? s : "null";
  free(s);
  return out;
}

// A list of channel patterns: an array of strings, or one string.
bool pattern_list(const json_t *v, std::vector<std::string> &out) {
  if (!v) return true;
  if (json_is_string(v)) {
    out.emplace_back(json_string_value(v), json_string_length(v));
    return true;
  }
  if (!json_is_array(v)) return false;
  size_t i;
  json_t *item;
  json_array_foreach(v, i, item) {
    if (!json_is_string(item)) return false;
    out.emplace_back(json_string_value(item), json_string_length(item));
  }
  return true;
}

bool number_claim(const json_t *claims, const char *name, int64_t &out, bool &present, std::string &why) {
  const json_t *v = json_object_get(claims, name);
  present = v != nullptr;
  if (!v) return true;
  if (!json_is_number(v)) {
    why = std::string("claim '") + name + "' is not a number";
    return false;
  }
  double d = json_number_value(v);
  if (!(d > -9.2e18 && d < 9.2e18)) {
    why = std::string("claim '") + name + "' is out of range";
    return false;
  }
  out = static_cast<int64_t>(d);
  return true;
}

bool audience_matches(const json_t *aud, const std::string &want) {
  if (json_is_string(aud)) return want == json_string_value(aud);
  if (!json_is_array(aud)) return false;
  size_t i;
  json_t *item;
  json_array_foreach(aud, i, item) {
    if (json_is_string(item) && want == json_string_value(item)) return true;
  }
  return false;
}

}  // namespace

bool JwtVerifier::init(const JwtConfig &cfg, std::string &why) {
  cfg_ = cfg;
  kind_ = Kind::None;
  if (!cfg.secret.empty() && !cfg.public_key_pem.empty()) {
    why = "give jwt_secret or jwt_public_key, not both";
    return false;
  }
  if (!cfg.secret.empty()) {
    kind_ = Kind::Hmac;
    return true;
  }
  if (cfg.public_key_pem.empty()) return true;
  BIO *bio = BIO_new_mem_buf(cfg.public_key_pem.data(), static_cast<int>(cfg.public_key_pem.size()));
  EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (!key) {
    why = "is not a PEM public key (-----BEGIN PUBLIC KEY-----)";
    return false;
  }
  int id = EVP_PKEY_base_id(key), bits = EVP_PKEY_bits(key);
  EVP_PKEY_free(key);
  if (id == EVP_PKEY_RSA) {
    kind_ = Kind::Rsa;
  } else if (id == EVP_PKEY_EC && (bits == 256 || bits == 384 || bits == 521)) {
    kind_ = Kind::Ec;
    ec_bits_ = bits;
  } else {
    why = "is neither an RSA key nor an EC key on P-256, P-384 or P-521";
    return false;
  }
  return true;
}

const char *JwtVerifier::algs() const {
  switch (kind_) {
    case Kind::Hmac:
      return "HS256, HS384, HS512";
    case Kind::Rsa:
      return "RS256, RS384, RS512, PS256, PS384, PS512";
    case Kind::Ec:
      return ec_bits_ == 256 ? "ES256" : ec_bits_ == 384 ? "ES384" : "ES512";
    default:
      return "none configured";
  }
}

bool JwtVerifier::alg_fits(const std::string &alg) const {
  switch (kind_) {
    case Kind::Hmac:
      return alg == "HS256" || alg == "HS384" || alg == "HS512";
    case Kind::Rsa:
      return alg == "RS256" || alg == "RS384" || alg == "RS512" || alg == "PS256" || alg == "PS384" ||
             alg == "PS512";
    case Kind::Ec:
      return alg == (ec_bits_ == 256 ? "ES256" : ec_bits_ == 384 ? "ES384" : "ES512");
    default:
      return false;
  }
}

bool JwtVerifier::verify(std::string_view token, int64_t now, Grant &out, std::string &why) const {
  out = Grant();
  if (!enabled()) {
    why = "no key configured";
    return false;
  }
  if (token.size() > kMaxTokenBytes) {
    why = "token too long";
    return false;
  }
  size_t dot1 = token.find('.'), dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    why = "malformed token (want header.payload.signature)";
    return false;
  }
  for (char c : token)
    if (c != '.' && !b64url_char(c)) {
      why = "malformed token (not base64url)";
      return false;
    }
  JsonPtr head = b64url_json(token.substr(0, dot1));
  const json_t *alg_v = head && json_is_object(head.get()) ? json_object_get(head.get(), "alg") : nullptr;
  if (!json_is_string(alg_v)) {
    why = "malformed token header (no alg)";
    return false;
  }
  std::string alg = json_string_value(alg_v);
  if (alg == "none" || alg.empty()) {
    why = "alg none is not accepted";
    return false;
  }
  if (!alg_fits(alg)) {
    why = "alg " + alg.substr(0, 16) + " does not match the configured key (" + algs() + ")";
    return false;
  }
  // libjwt 1.10 refuses any typ but JWT (RFC 7519 5.1); say so rather than "malformed".
  const json_t *typ = json_object_get(head.get(), "typ");
  if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0)) {
    why = "typ is not JWT";
    return false;
  }
  if (dot2 + 1 == token.size()) {
    why = "token has no signature";
    return false;
  }

  JsonPtr claims;
  if (alg[0] == 'P') {  // PS*: libjwt 1.10 cannot decode them at all
    if (!verify_pss(cfg_.public_key_pem, alg, token.substr(0, dot2), token.substr(dot2 + 1))) {
      why = "signature does not verify (or the token is malformed)";
      return false;
    }
    claims = b64url_json(token.substr(dot1 + 1, dot2 - dot1 - 1));
  } else {
    const std::string &key = kind_ == Kind::Hmac ? cfg_.secret : cfg_.public_key_pem;
    jwt_t *raw = nullptr;
    std::string t(token);
    int rc = jwt_decode(&raw, t.c_str(), reinterpret_cast<const unsigned char *>(key.data()),
                        static_cast<int>(key.size()));
    std::unique_ptr<jwt_t, JwtFree> jwt(raw);
    if (rc || !jwt) {
      why = "signature does not verify (or the token is malformed)";
      return false;
    }
    // What libjwt verified with must be what we admitted above.
    const char *used = jwt_alg_str(jwt_get_alg(jwt.get()));
    if (!used || alg != used) {
      why = "alg does not match the configured key";
      return false;
    }
    char *grants = jwt_get_grants_json(jwt.get(), nullptr);
    claims.reset(grants ? json_loads(grants, JSON_REJECT_DUPLICATES, nullptr) : nullptr);
    free(grants);
  }
  if (!claims || !json_is_object(claims.get())) {
    why = "claims are not a JSON object";
    return false;
  }
  const json_t *c = claims.get();

  int64_t exp = 0, nbf = 0;
  bool has_exp, has_nbf;
  if (!number_claim(c, "exp", exp, has_exp, why) || !number_claim(c, "nbf", nbf, has_nbf, why)) return false;
  const int64_t leeway = cfg_.leeway;
  if (has_exp && now >= exp + leeway) {
    why = "token expired";
    return false;
  }
  if (has_nbf && now + leeway < nbf) {
    why = "token not valid yet (nbf)";
    return false;
  }
  if (!cfg_.issuer.empty()) {
    const json_t *iss = json_object_get(c, "iss");
    if (!json_is_string(iss) || cfg_.issuer != json_string_value(iss)) {
      why = "wrong issuer (iss)";
      return false;
    }
  }
  if (!cfg_.audience.empty() && !audience_matches(json_object_get(c, "aud"), cfg_.audience)) {
    why = "wrong audience (aud)";
    return false;
  }
  const json_t *sub = json_object_get(c, "sub");
  if (sub && !json_is_string(sub)) {
    why = "claim 'sub' is not a string";
    return false;
  }
  if (sub) out.sub.assign(json_string_value(sub), json_string_length(sub));
  const json_t *rights = json_object_get(c, "ssews");
  if (rights && !json_is_object(rights)) {
    why = "claim 'ssews' is not an object";
    return false;
  }
  if (rights && (!pattern_list(json_object_get(rights, "subscribe"), out.subscribe) ||
                 !pattern_list(json_object_get(rights, "publish"), out.publish))) {
    why = "claim 'ssews': subscribe and publish must be lists of channel patterns";
    return false;
  }
  out.exp = has_exp ? exp : 0;
  const char *name;
  json_t *v;
  json_object_foreach(claims.get(), name, v) {
    out.claims.emplace_back(name, dump(v));
  }
  out.claims_json = dump(c);
  return true;
}

}  // namespace sw
