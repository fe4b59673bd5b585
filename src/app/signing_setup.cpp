#include "app/signing_setup.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "auth/dkim/signature.h"
#include "util/errno_message.h"

namespace mailmoat::app {

namespace dkim = auth::dkim;

util::Result<dkim::PrivateKey> read_private_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::fail("cannot read key file " + path + ": " + util::errno_message(errno));
  std::ostringstream text;
  text << in.rdbuf();
  auto key = dkim::load_private_key(text.str());
  if (!key) return util::fail("key file " + path + ": " + key.error().message);
  return key;
}

util::Result<filters::SigningConfig> signing_config(const Config& cfg, const std::string& authserv_id) {
  filters::SigningConfig out;
  out.authserv_id = authserv_id;
  auto canon = dkim::parse_canon(cfg.dkim.canonicalization);
  if (!canon) return util::fail("dkim.canonicalization: " + canon.error().message);
  for (std::size_t i = 0; i < cfg.dkim.keys.size(); ++i) {
    const DkimKeyConfig& k = cfg.dkim.keys[i];
    std::string label = "dkim.key[" + std::to_string(i) + "] (" + k.domain + ", selector " + k.selector + "): ";
    // Next keys are loaded too: a broken one should be found before it is swapped in.
    auto key = read_private_key(k.key_file);
    if (!key) return util::fail(label + key.error().message);
    if (k.next || !cfg.dkim.sign) continue;
    auto signer = dkim::SignerBuilder(k.domain, k.selector, std::move(*key))
                      .canonicalization(canon->first, canon->second)
                      .headers(cfg.dkim.headers)
                      .oversigned(cfg.dkim.oversign)
                      .build();
    if (!signer) return util::fail(label + signer.error().message);
    out.signers.push_back(std::move(*signer));
  }
  if (cfg.arc.seal && !cfg.arc.key_file.empty()) {
    auto key = read_private_key(cfg.arc.key_file);
    if (!key) return util::fail("arc: " + key.error().message);
    auto sealer = auth::arc::SealerBuilder(cfg.arc.domain, cfg.arc.selector, std::move(*key)).build();
    if (!sealer) return util::fail("arc: " + sealer.error().message);
    out.sealer = std::move(*sealer);
  }
  return out;
}

}  // namespace mailmoat::app
