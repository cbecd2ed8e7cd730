// SplicedJson: JSON text made of own text and borrowed texts, unjoined.
#ifndef ZEN_CODEGEN_RUNTIME_SPLICED_JSON_H_
#define ZEN_CODEGEN_RUNTIME_SPLICED_JSON_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "base/scratch_string.h"

namespace zen::codegen_runtime {

// JSON text built as text of its own with borrowed texts spliced in between,
// left unjoined so that a gathered write (rpc::ServerCall::Respond with
// parts) sends it without copying the borrowed texts: the encoder writes
// `{"config":` into text(), borrows the cached document, and goes on with
// `,"config_generation":1}`.
//
// Not thread-safe. A borrowed text is not owned: it must stay alive and
// unchanged while parts() are in use.
class SplicedJson {
 public:
  // The own text, to append to. Borrowed texts sit between its bytes at the
  // positions recorded by AppendBorrowed.
  std::string* text() { return text_.get(); }

  // Appends `borrowed` by reference, after the own text written so far.
  void AppendBorrowed(absl::string_view borrowed) {
    borrowed_.emplace_back(text_.str().size(), borrowed);
  }

  // The pieces, in order, empty ones left out: their concatenation is the
  // JSON text. Valid until this object is changed or destroyed.
  absl::InlinedVector<absl::string_view, 8> parts() const {
    absl::InlinedVector<absl::string_view, 8> out;
    size_t at = 0;
    auto add = [&out](absl::string_view part) {
      if (!part.empty()) out.push_back(part);
    };
    const absl::string_view text = text_.str();
    for (const auto& [position, borrowed] : borrowed_) {
      add(text.substr(at, position - at));
      add(borrowed);
      at = position;
    }
    add(text.substr(at));
    return out;
  }

  // The whole text, joined (a copy: for tests and for callers that need one
  // string).
  std::string Join() const {
    std::string out;
    for (absl::string_view part : parts()) out.append(part.data(), part.size());
    return out;
  }

 private:
  ScratchString text_;  // No allocation per response once warm.
  // (position in text_, borrowed text), positions ascending.
  absl::InlinedVector<std::pair<size_t, absl::string_view>, 2> borrowed_;
};

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_SPLICED_JSON_H_
