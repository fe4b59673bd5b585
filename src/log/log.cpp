#include "log/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>

namespace mailmoat::log {
namespace {

std::atomic<Format> g_format{Format::text};

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::trace: return spdlog::level::trace;
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
    case Level::critical: return spdlog::level::critical;
    case Level::off: return spdlog::level::off;
  }
  return spdlog::level::info;
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  return false;
}

void append_escaped(std::string& out, std::string_view v) {
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          (void)std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  (void)std::snprintf(buf, sizeof buf, "%.6g", v);
  value = buf;
}

std::optional<Level> parse_level(std::string_view n) {
  if (n == "trace") return Level::trace;
  if (n == "debug") return Level::debug;
  if (n == "info") return Level::info;
  if (n == "warn" || n == "warning") return Level::warn;
  if (n == "error") return Level::error;
  if (n == "critical") return Level::critical;
  if (n == "off") return Level::off;
  return std::nullopt;
}

std::optional<Format> parse_format(std::string_view n) {
  if (n == "text") return Format::text;
  if (n == "json") return Format::json;
  return std::nullopt;
}

std::string format_fields(Format format, std::string_view event, std::initializer_list<Field> fields) {
  std::string out;
  if (format == Format::json) {
    out += "\"event\":\"";
    append_escaped(out, event);
    out += '"';
    for (const Field& f : fields) {
      out += ",\"";
      append_escaped(out, f.key);
      out += "\":\"";
      append_escaped(out, f.value);
      out += '"';
    }
    return out;
  }
  out += event;
  for (const Field& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    if (needs_quotes(f.value)) {
      out += '"';
      append_escaped(out, f.value);
      out += '"';
    } else {
      out += f.value;
    }
  }
  return out;
}

void init(Level level, Format format) {
  g_format = format;
  auto logger = spdlog::get("mailmoat");
  if (!logger) {
    logger = std::make_shared<spdlog::logger>("mailmoat", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::register_logger(logger);
    spdlog::set_default_logger(logger);
  }
  if (format == Format::json)
    logger->set_pattern("{\"ts\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"%l\",%v}", spdlog::pattern_time_type::utc);
  else
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
  logger->set_level(to_spd(level));
  logger->flush_on(spdlog::level::trace);
}

void set_level(Level level) { spdlog::default_logger()->set_level(to_spd(level)); }

bool enabled(Level level) { return spdlog::default_logger()->should_log(to_spd(level)); }

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  auto spd = to_spd(level);
  if (!spdlog::default_logger()->should_log(spd)) return;
  spdlog::default_logger()->log(spd, "{}", format_fields(g_format.load(), event, fields));
}

}  // namespace mailmoat::log
