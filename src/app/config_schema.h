// The configuration schema bound to one Config value: which keys exist, where
// each is stored, its check and its doc line. Used by the loader, the renderer
// and the tests; nothing else needs to know the TOML shape.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "app/config.h"

namespace mailmoat::app {

enum class Check { none, host_port, cidr, domain, one_of, name_days, host_port_or_unix };

struct Field {
  std::string key;  // within its table, e.g. "listen"
  std::variant<std::string*, std::int64_t*, bool*, std::vector<std::string>*> target;
  std::string doc;
  Check check = Check::none;
  std::vector<std::string> choices = {};
  std::int64_t min = std::numeric_limits<std::int64_t>::min();
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  bool secret = false;
};

struct Section {
  std::string name;  // dotted table name, e.g. "server"
  std::vector<Field> fields;
};

// A TOML array of tables such as [[smtp.listener]]: present in a file, it
// replaces the default elements.
struct TableArray {
  std::string name;
  std::string doc;
  std::function<std::size_t()> size;
  std::function<void(std::size_t)> resize;
  std::function<std::vector<Field>(std::size_t)> element;
};

struct Schema {
  std::vector<Section> sections;
  std::vector<TableArray> arrays;
};

Schema bind_schema(Config& config);
// The [[tls.certificate]] and [[tls.partner]] arrays (tls_config_schema.cpp).
void add_tls_schema(Schema& schema, Config& config);
// The [links] section and [[links.policy]] tables (links_config_schema.cpp).
void bind_links_schema(Config& config, Schema& schema);

// Returns an error message, or an empty string when the value is acceptable.
std::string check_field(const Field& field);

}  // namespace mailmoat::app
