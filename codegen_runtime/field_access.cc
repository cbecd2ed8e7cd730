#include "codegen_runtime/field_access.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/mutex.h"

namespace zen::codegen_runtime {
namespace {

struct Registry {
  Mutex mu;
  // Entries are never removed: pointers handed out stay valid.
  absl::flat_hash_map<std::string, std::unique_ptr<MessageAccess>> by_name
      ABSL_GUARDED_BY(mu);
  std::vector<std::unique_ptr<FieldAccess[]>> tables ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* const registry = new Registry;  // Never destroyed.
  return *registry;
}

}  // namespace

bool RegisterMessageAccess(absl::string_view full_name,
                           const std::type_info& type,
                           std::initializer_list<FieldAccess> fields) {
  Registry& r = GetRegistry();
  MutexLock lock(&r.mu);
  if (r.by_name.contains(full_name)) return true;
  // Fields numbered beyond kMaxAccessNumber go through Reflection: the
  // table is indexed by number.
  int max_number = 0;
  for (const FieldAccess& f : fields) {
    if (f.number <= kMaxAccessNumber) {
      max_number = std::max(max_number, f.number);
    }
  }
  auto table = std::make_unique<FieldAccess[]>(max_number + 1);
  for (const FieldAccess& f : fields) {
    if (f.number > 0 && f.number <= kMaxAccessNumber) table[f.number] = f;
  }
  auto access = std::make_unique<MessageAccess>();
  access->type = &type;
  access->by_number = table.get();
  access->max_number = max_number;
  r.tables.push_back(std::move(table));
  r.by_name.emplace(std::string(full_name), std::move(access));
  return true;
}

const MessageAccess* FindMessageAccess(absl::string_view full_name) {
  Registry& r = GetRegistry();
  MutexLock lock(&r.mu);
  auto it = r.by_name.find(full_name);
  return it == r.by_name.end() ? nullptr : it->second.get();
}

}  // namespace zen::codegen_runtime
