#include "pipeline/chain.h"

#include <optional>

#include "util/strings.h"

namespace mailmoat::pipeline {

void FilterChain::add(std::shared_ptr<Filter> filter) { filters_.push_back(std::move(filter)); }

namespace {

struct Run : std::enable_shared_from_this<Run> {
  std::vector<std::shared_ptr<Filter>> filters;
  std::shared_ptr<MessageContext> context;
  Filter::Done done;
  std::size_t next = 0;
  // A hold does not end the chain: the held message is delivered as spooled
  // when released, so the filters after the holding one (SCL, disclaimer,
  // signing) must have run on it (docs/decisions.md).
  std::optional<Verdict> held;

  void step() {
    if (next >= filters.size()) {
      done(held ? std::move(*held) : Verdict::accept());
      return;
    }
    auto& filter = filters[next++];
    filter->on_message(*context, [self = shared_from_this(), name = filter->name()](Verdict v) mutable {
      if (v.disposition != Disposition::accept && v.filter.empty()) v.filter = name;
      if (v.disposition == Disposition::hold) {
        if (!self->held) self->held = std::move(v);
      } else if (v.disposition != Disposition::accept) {
        self->done(std::move(v));
        return;
      }
      self->step();
    });
  }
};

}  // namespace

void FilterChain::run(std::shared_ptr<MessageContext> context, Filter::Done done) const {
  auto run = std::make_shared<Run>();
  run->filters = filters_;
  run->context = std::move(context);
  run->done = std::move(done);
  run->step();
}

void run_final_actions(MessageContext& context, const Verdict& verdict) {
  auto actions = std::move(context.final_actions);
  context.final_actions.clear();
  if (verdict.disposition == Disposition::tempfail) return;
  for (auto& action : actions) action(context);
}

std::shared_ptr<FilterChain> FilterChain::after(std::string_view name) const {
  auto tail = std::make_shared<FilterChain>();
  bool found = false;
  for (const auto& f : filters_) {
    if (found) tail->add(f);
    else found = f->name() == name;
  }
  return tail;
}

void apply_edits(std::string& message, const Edits& edits) {
  if (edits.headers.empty() && !edits.body) return;
  std::size_t header_end = message.find("\r\n\r\n");
  std::string header = header_end == std::string::npos ? message : message.substr(0, header_end + 2);
  std::string body = header_end == std::string::npos ? std::string() : message.substr(header_end + 4);
  bool had_separator = header_end != std::string::npos;

  // Split the header section into fields (a field continues on lines starting with SP or HTAB).
  std::vector<std::string> fields;
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t eol = header.find("\r\n", pos);
    std::size_t next = eol == std::string::npos ? header.size() : eol + 2;
    std::string line = header.substr(pos, next - pos);
    // A message that ends inside its last field (BDAT allows it) gets that line ended, so an
    // appended field or the empty line before a new body does not run into it.
    if (eol == std::string::npos) line += "\r\n";
    if (!fields.empty() && !line.empty() && (line[0] == ' ' || line[0] == '\t'))
      fields.back() += line;
    else
      fields.push_back(line);
    pos = next;
  }
  auto name_of = [](const std::string& f) { return std::string(util::trim(f.substr(0, f.find(':')))); };
  std::vector<std::string> prepend;
  for (const HeaderEdit& e : edits.headers) {
    std::string field = e.name + ": " + e.value + "\r\n";
    switch (e.op) {
      case HeaderEdit::Op::prepend: prepend.insert(prepend.begin(), field); break;
      case HeaderEdit::Op::append: fields.push_back(field); break;
      case HeaderEdit::Op::remove:
        std::erase_if(fields, [&](const std::string& f) { return util::iequals(name_of(f), e.name); });
        break;
      case HeaderEdit::Op::replace: {
        bool replaced = false;
        for (auto& f : fields)
          if (!replaced && util::iequals(name_of(f), e.name)) {
            f = field;
            replaced = true;
          }
        if (!replaced) fields.push_back(field);
        break;
      }
    }
  }
  std::string out;
  out.reserve(message.size() + 256);
  for (const auto& f : prepend) out += f;
  for (const auto& f : fields) out += f;
  if (had_separator || edits.body) out += "\r\n";
  out += edits.body ? *edits.body : body;
  message = std::move(out);
}

}  // namespace mailmoat::pipeline

namespace mailmoat::pipeline {

std::string header_value(std::string_view message, std::string_view name) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = message.size();
    std::string_view line = message.substr(pos, eol - pos);
    if (line.empty()) return {};
    if (line.size() > name.size() && line[name.size()] == ':' && util::iequals(line.substr(0, name.size()), name)) {
      std::string value(util::trim(line.substr(name.size() + 1)));
      std::size_t next = eol + 2;
      while (next < message.size() && (message[next] == ' ' || message[next] == '\t')) {
        std::size_t e2 = message.find("\r\n", next);
        if (e2 == std::string_view::npos) e2 = message.size();
        value += " " + std::string(util::trim(message.substr(next, e2 - next)));
        next = e2 + 2;
      }
      return value;
    }
    pos = eol + 2;
  }
  return {};
}

}  // namespace mailmoat::pipeline
