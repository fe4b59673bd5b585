#include "app/config.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "app/config_schema.h"
#include "util/host_port.h"
#include "util/strings.h"

namespace mailmoat::app {

std::string Diagnostic::to_string() const {
  if (line > 0) return file + ":" + std::to_string(line) + ": " + message;
  return file + ": " + message;
}

namespace {

bool loopback_listen(const std::string& listen) {
  auto hp = util::parse_host_port(listen);
  if (!hp) return true;  // the schema reports the malformed value
  if (hp->host == "::1" || hp->host == "localhost") return true;
  return hp->host.starts_with("127.");
}

}  // namespace

namespace {

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

class Loader {
 public:
  Loader(LoadResult& r, std::string file) : r_(r), file_(std::move(file)), schema_(bind_schema(r.config)) {}

  void load_table(const toml::table& root) { walk(root, ""); }

  // "a.b.c=value": a section key, or "smtp.listener.N.key" for an array element.
  void apply_override(const std::string& spec) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) {
      error_at(0, "--set " + spec + ": expected key=value");
      return;
    }
    std::string key(util::trim(std::string_view(spec).substr(0, eq)));
    std::string raw(util::trim(std::string_view(spec).substr(eq + 1)));
    toml::table parsed;
    try {
      parsed = toml::parse("v = " + raw);
    } catch (const toml::parse_error&) {
      parsed = toml::table{{"v", raw}};  // a bare word is a string
    }
    const toml::node& value = *parsed.get("v");
    auto dot = key.rfind('.');
    if (dot == std::string::npos) {
      error_at(0, "--set " + key + ": unknown key");
      return;
    }
    std::string table = key.substr(0, dot), leaf = key.substr(dot + 1);
    // Array element: <array>.<index>.<leaf>
    auto idx_dot = table.rfind('.');
    if (idx_dot != std::string::npos) {
      if (auto index = util::parse_uint(std::string_view(table).substr(idx_dot + 1))) {
        std::string array_name = table.substr(0, idx_dot);
        for (auto& a : schema_.arrays) {
          if (a.name != array_name) continue;
          if (*index > 1000) break;
          if (a.size() <= *index) a.resize(*index + 1);
          auto fields = a.element(*index);
          assign_in(fields, array_name, leaf, value, 0, "--set " + key);
          return;
        }
      }
    }
    for (auto& s : schema_.sections)
      if (s.name == table) {
        assign_in(s.fields, table, leaf, value, 0, "--set " + key);
        return;
      }
    error_at(0, "--set " + key + ": unknown key");
  }

 private:
  void walk(const toml::table& t, const std::string& prefix) {
    for (auto&& [k, node] : t) {
      std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (auto* array = find_array(path)) {
        load_array(*array, node, path);
        continue;
      }
      if (const toml::table* sub = node.as_table()) {
        if (find_section(path) || has_child_section(path)) {
          walk(*sub, path);
        } else {
          error_at(line_of(node), "unknown section [" + path + "]");
        }
        continue;
      }
      Section* section = find_section(prefix);
      if (!section) {
        error_at(line_of(node), "unknown key \"" + path + "\"");
        continue;
      }
      assign_in(section->fields, prefix, std::string(k.str()), node, line_of(node), path);
    }
  }

  void load_array(TableArray& array, const toml::node& node, const std::string& path) {
    const toml::array* items = node.as_array();
    if (!items || !items->is_array_of_tables()) {
      error_at(line_of(node), path + ": expected [[" + path + "]] tables");
      return;
    }
    array.resize(0);
    array.resize(items->size());
    for (std::size_t i = 0; i < items->size(); ++i) {
      auto fields = array.element(i);
      for (auto&& [k, value] : *items->get(i)->as_table())
        assign_in(fields, path, std::string(k.str()), value, line_of(value),
                  path + "[" + std::to_string(i) + "]." + std::string(k.str()));
    }
  }

  void assign_in(std::vector<Field>& fields, const std::string& table, const std::string& leaf,
                 const toml::node& value, std::int64_t line, const std::string& label) {
    for (Field& f : fields) {
      if (f.key != leaf) continue;
      seen_.insert(table + "." + leaf);
      if (std::string err = assign(f, value); !err.empty()) {
        error_at(line, label + ": " + err);
        return;
      }
      if (std::string err = check_field(f); !err.empty()) error_at(line, label + ": " + err);
      return;
    }
    error_at(line, "unknown key \"" + (table.empty() ? leaf : table + "." + leaf) + "\"");
  }

  static std::string assign(Field& f, const toml::node& v) {
    if (auto* s = std::get_if<std::string*>(&f.target)) {
      if (!v.is_string()) return std::string("expected a string, got ") + type_name(v);
      **s = *v.value<std::string>();
    } else if (auto* n = std::get_if<std::int64_t*>(&f.target)) {
      if (!v.is_integer()) return std::string("expected an integer, got ") + type_name(v);
      **n = *v.value<std::int64_t>();
    } else if (auto* b = std::get_if<bool*>(&f.target)) {
      if (!v.is_boolean()) return std::string("expected true or false, got ") + type_name(v);
      **b = *v.value<bool>();
    } else if (auto* list = std::get_if<std::vector<std::string>*>(&f.target)) {
      const toml::array* a = v.as_array();
      if (!a) return std::string("expected an array of strings, got ") + type_name(v);
      std::vector<std::string> out;
      for (const toml::node& item : *a) {
        if (!item.is_string()) return std::string("expected an array of strings, found ") + type_name(item);
        out.push_back(*item.value<std::string>());
      }
      **list = std::move(out);
    }
    return {};
  }

  Section* find_section(const std::string& name) {
    for (auto& s : schema_.sections)
      if (s.name == name) return &s;
    return nullptr;
  }
  bool has_child_section(const std::string& name) {
    for (auto& s : schema_.sections)
      if (s.name.starts_with(name + ".")) return true;
    for (auto& a : schema_.arrays)
      if (a.name.starts_with(name + ".")) return true;
    return false;
  }
  TableArray* find_array(const std::string& name) {
    for (auto& a : schema_.arrays)
      if (a.name == name) return &a;
    return nullptr;
  }
  static std::int64_t line_of(const toml::node& n) { return static_cast<std::int64_t>(n.source().begin.line); }
  void error_at(std::int64_t line, std::string msg) {
    r_.errors.push_back(Diagnostic{line > 0 ? file_ : std::string("command line"), line, std::move(msg)});
  }

 public:
  void finish() {
    // toml++ iterates keys in sorted order; report in file order.
    std::stable_sort(r_.errors.begin(), r_.errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return (a.line == 0 ? INT64_MAX : a.line) < (b.line == 0 ? INT64_MAX : b.line);
    });
    r_.keys_seen.assign(seen_.begin(), seen_.end());
    // Cross-field checks.
    std::set<std::string> addresses;
    for (std::size_t i = 0; i < r_.config.smtp.listeners.size(); ++i) {
      const auto& l = r_.config.smtp.listeners[i];
      std::string label = "smtp.listener[" + std::to_string(i) + "]";
      if (l.tls_cert.empty() != l.tls_key.empty())
        error_at(0, label + ": tls_cert and tls_key must be set together");
      if (!l.address.ends_with(":0") && !addresses.insert(l.address).second)
        error_at(0, label + ": address " + l.address + " is used by another listener");
    }
    std::set<std::string> route_names;
    for (std::size_t i = 0; i < r_.config.routes.size(); ++i) {
      const auto& rt = r_.config.routes[i];
      if (!rt.name.empty() && !route_names.insert(rt.name).second)
        error_at(0, "route[" + std::to_string(i) + "]: name " + rt.name + " is used by another route");
      std::string label = "route[" + std::to_string(i) + "]";
      if ((rt.transport == "relay" || rt.transport == "lmtp") && rt.next_hop.empty())
        error_at(0, label + ": transport " + rt.transport + " needs next_hop");
      if (rt.domains.empty() && rt.name.empty()) error_at(0, label + ": domains is empty (allowed only with a name)");
    }
    for (std::size_t i = 0; i < r_.config.dkim.keys.size(); ++i) {
      const auto& k = r_.config.dkim.keys[i];
      std::string label = "dkim.key[" + std::to_string(i) + "]";
      if (k.domain.empty() || k.selector.empty() || k.key_file.empty())
        error_at(0, label + ": domain, selector and key_file must all be set");
    }
    const auto& arc = r_.config.arc;
    if (!arc.key_file.empty() && (arc.domain.empty() || arc.selector.empty()))
      error_at(0, "arc: key_file needs domain and selector");
    const auto& http = r_.config.http;
    if (http.tls_cert.empty() != http.tls_key.empty()) error_at(0, "http: tls_cert and tls_key must be set together");
    if (http.tls_cert.empty() && !loopback_listen(http.listen))
      error_at(0, "http: listen " + http.listen +
                      " is not a loopback address; the admin API must not travel in clear: set tls_cert and tls_key");
    const auto& reports = r_.config.dmarc_reports;
    if (reports.enabled && reports.from.find('@') == std::string::npos)
      error_at(0, "dmarc_reports: enabled needs from (the reporting address)");
  }

 private:
  LoadResult& r_;
  std::string file_;
  Schema schema_;
  std::set<std::string> seen_;
};

LoadResult load(std::string_view text, const std::string& name, const std::vector<std::string>& overrides,
                bool have_text) {
  LoadResult r;
  Loader loader(r, name);
  if (have_text) {
    try {
      toml::table root = toml::parse(text, name);
      loader.load_table(root);
    } catch (const toml::parse_error& e) {
      r.errors.push_back(Diagnostic{name, static_cast<std::int64_t>(e.source().begin.line),
                                    std::string(e.description())});
      return r;
    }
  }
  for (const auto& o : overrides) loader.apply_override(o);
  loader.finish();
  return r;
}

void render_value(std::ostringstream& out, const Field& f) {
  if (f.secret) {
    auto* s = std::get_if<std::string*>(&f.target);
    if (!s || !(*s)->empty()) {
      out << "\"(secret)\"";
      return;
    }
  }
  if (auto* s = std::get_if<std::string*>(&f.target)) {
    out << toml::value<std::string>(**s);
  } else if (auto* n = std::get_if<std::int64_t*>(&f.target)) {
    out << **n;
  } else if (auto* b = std::get_if<bool*>(&f.target)) {
    out << (**b ? "true" : "false");
  } else if (auto* list = std::get_if<std::vector<std::string>*>(&f.target)) {
    out << '[';
    for (std::size_t i = 0; i < (*list)->size(); ++i)
      out << (i ? ", " : "") << toml::value<std::string>((**list)[i]);
    out << ']';
  }
}

}  // namespace

LoadResult load_config_text(std::string_view text, const std::string& name,
                            const std::vector<std::string>& overrides) {
  return load(text, name, overrides, true);
}

LoadResult load_config(const std::string& path, const std::vector<std::string>& overrides) {
  if (path.empty()) return load({}, "defaults", overrides, false);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back(Diagnostic{path, 0, "cannot read the file"});
    return r;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return load(buf.str(), path, overrides, true);
}

std::string render_config(const Config& config) {
  Config copy = config;
  Schema schema = bind_schema(copy);
  std::ostringstream out;
  for (const Section& s : schema.sections) {
    out << '[' << s.name << "]\n";
    for (const Field& f : s.fields) {
      out << f.key << " = ";
      render_value(out, f);
      out << '\n';
    }
    out << '\n';
  }
  for (TableArray& a : schema.arrays) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      out << "[[" << a.name << "]]\n";
      for (const Field& f : a.element(i)) {
        out << f.key << " = ";
        render_value(out, f);
        out << '\n';
      }
      out << '\n';
    }
  }
  return out.str();
}

std::vector<std::string> all_config_keys() {
  Config c;
  Schema schema = bind_schema(c);
  std::vector<std::string> keys;
  for (const Section& s : schema.sections)
    for (const Field& f : s.fields) keys.push_back(s.name + "." + f.key);
  for (TableArray& a : schema.arrays) {
    if (a.size() == 0) a.resize(1);
    for (const Field& f : a.element(0)) keys.push_back(a.name + "." + f.key);
  }
  return keys;
}

}  // namespace mailmoat::app
