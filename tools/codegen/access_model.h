// Which fields of a file's messages get generated accessors for the JSON
// codec (codegen_runtime/field_access.h).
#ifndef ZEN_TOOLS_CODEGEN_ACCESS_MODEL_H_
#define ZEN_TOOLS_CODEGEN_ACCESS_MODEL_H_

#include <vector>

#include "google/protobuf/descriptor.h"
#include "tools/codegen/model.h"

namespace zen::codegen {

// Appends the accessor models of every message of `file` (nested ones
// included, map entries excluded) that has at least one eligible field: a
// singular, non-oneof int32/int64/uint32/uint64 (any encoding), bool,
// float, double or string field whose C++ accessor name is its lowercased
// name (protobuf renames fields named like C++ keywords; those are left to
// Reflection rather than guessed).
void AddMessageAccess(const google::protobuf::FileDescriptor* file,
                      std::vector<MessageAccessModel>* out);

}  // namespace zen::codegen

#endif  // ZEN_TOOLS_CODEGEN_ACCESS_MODEL_H_
