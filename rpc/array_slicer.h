// Finds the raw text of each element of a JSON array whose text is already
// known to be valid JSON (EnvelopeParser's DOM pass validates every byte
// first). Knowing the text valid is what makes this cheap: it only has to
// tell where strings and containers end, never whether they are well formed,
// so it costs no second pass of a JSON parser over the frame.
#ifndef ZEN_RPC_ARRAY_SLICER_H_
#define ZEN_RPC_ARRAY_SLICER_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace zen::rpc::internal {

// Sets out[0..count) to the raw text of the elements of `json`, without the
// whitespace around them. `json` must be valid JSON whose root is an array
// of exactly `count` >= 1 elements, starting at its first byte (no byte
// order mark, which some simdjson releases skip); anything else is
// undefined.
//
// The leading elements are walked from the front; trailing scalar elements
// (null, true, false, numbers) are found from the back, and the element
// between them is what remains, so the size of that one costs nothing. With
// `[id, method, args, kwargs]` the walk covers the id, the method and the
// args; with `[id, result, null]` only the id.
void SliceArrayElements(absl::string_view json, size_t count,
                        absl::string_view* out);

}  // namespace zen::rpc::internal

#endif  // ZEN_RPC_ARRAY_SLICER_H_
