#include "pipeline/chain.h"

#include <algorithm>
#include <deque>
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
  message = with_edits(message, edits);
}

std::string with_edits(std::string_view in, const Edits& edits) {
  if (edits.headers.empty() && !edits.body) return std::string(in);
  const std::size_t header_end = in.find("\r\n\r\n");
  const bool had_separator = header_end != std::string_view::npos;
  const std::string_view header = had_separator ? in.substr(0, header_end + 2) : in;
  const std::string_view body = had_separator ? in.substr(header_end + 4) : std::string_view();

  // The header section as fields (a field continues on lines starting with SP or HTAB).
  // An unchanged field is a view into the message; new ones live in `made`, whose
  // elements do not move (a deque).
  std::deque<std::string> made;
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t eol = header.find("\r\n", pos);
    std::size_t next = eol == std::string_view::npos ? header.size() : eol + 2;
    const bool continuation = !fields.empty() && (header[pos] == ' ' || header[pos] == '\t');
    // A message that ends inside its last field (BDAT allows it) gets that line ended, so an
    // appended field or the empty line before a new body does not run into it.
    if (eol == std::string_view::npos) {
      std::string line = (continuation ? std::string(fields.back()) : std::string()) +
                         std::string(header.substr(pos)) + "\r\n";
      if (continuation) fields.pop_back();
      fields.emplace_back(made.emplace_back(std::move(line)));
    } else if (continuation && fields.back().data() + fields.back().size() == header.data() + pos) {
      fields.back() = std::string_view(fields.back().data(), fields.back().size() + (next - pos));
    } else {
      fields.push_back(header.substr(pos, next - pos));
    }
    pos = next;
  }
  auto name_of = [](std::string_view f) { return util::trim(f.substr(0, f.find(':'))); };
  std::vector<std::string_view> prepend;
  for (const HeaderEdit& e : edits.headers) {
    auto field = [&]() -> std::string_view { return made.emplace_back(e.name + ": " + e.value + "\r\n"); };
    switch (e.op) {
      case HeaderEdit::Op::prepend: prepend.insert(prepend.begin(), field()); break;
      case HeaderEdit::Op::append: fields.push_back(field()); break;
      case HeaderEdit::Op::remove:
        std::erase_if(fields, [&](std::string_view f) { return util::iequals(name_of(f), e.name); });
        break;
      case HeaderEdit::Op::replace: {
        auto it = std::find_if(fields.begin(), fields.end(),
                               [&](std::string_view f) { return util::iequals(name_of(f), e.name); });
        if (it != fields.end()) *it = field();
        else fields.push_back(field());
        break;
      }
    }
  }
  std::size_t size = (edits.body ? edits.body->size() : body.size()) + 2;
  for (auto f : prepend) size += f.size();
  for (auto f : fields) size += f.size();
  std::string out;
  out.reserve(size);
  for (auto f : prepend) out += f;
  for (auto f : fields) out += f;
  if (had_separator || edits.body) out += "\r\n";
  if (edits.body) out += *edits.body;
  else out += body;
  return out;
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
