// Structured event logging: one line per event, `event key=value ...` as text
// for people or one JSON object per line for machines (--log-format json).
// Callers name the event and its fields; the format is chosen once at start.
// Values that are secrets are never passed here (see docs/decisions.md).
#pragma once

#include <concepts>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace mailmoat::log {

enum class Level { trace, debug, info, warn, error, critical, off };
enum class Format { text, json };

std::optional<Level> parse_level(std::string_view name);
std::optional<Format> parse_format(std::string_view name);

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <std::integral T>
  Field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);
};

// Sets up the process-wide logger on stderr. Safe to call again (reload).
void init(Level level, Format format);
void set_level(Level level);
bool enabled(Level level);

void write(Level level, std::string_view event, std::initializer_list<Field> fields);

// Formats one event as the text or JSON line body (without time and level).
std::string format_fields(Format format, std::string_view event, std::initializer_list<Field> fields);

inline void debug(std::string_view event, std::initializer_list<Field> f = {}) { write(Level::debug, event, f); }
inline void info(std::string_view event, std::initializer_list<Field> f = {}) { write(Level::info, event, f); }
inline void warn(std::string_view event, std::initializer_list<Field> f = {}) { write(Level::warn, event, f); }
inline void error(std::string_view event, std::initializer_list<Field> f = {}) { write(Level::error, event, f); }

}  // namespace mailmoat::log
