// FieldAccess: typed access to the fields of a generated message class,
// registered by generated code, so that the JSON codec reads and writes
// those fields without protobuf's Reflection (whose generic lookups cost
// more than the JSON itself for small messages).
//
// The codec keeps every rule of the JSON mapping (reflection_json.h); only
// how a value is read, written and tested for presence changes. A message
// whose dynamic type is not the registered class (a DynamicMessage of the
// same type) goes through Reflection as before.
#ifndef ZEN_CODEGEN_RUNTIME_FIELD_ACCESS_H_
#define ZEN_CODEGEN_RUNTIME_FIELD_ACCESS_H_

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <typeinfo>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace zen::codegen_runtime {

// Access to one singular, non-oneof field of kind int32, int64, uint32,
// uint64, bool, float, double, string or bytes. One pair of get/set is set,
// after the field's C++ type (int32 and bool through the signed pair, uint32
// through the unsigned one, float through the double one).
struct FieldAccess {
  int number = 0;
  // As Reflection::HasField: explicit presence asks has_x(); implicit
  // presence is "not the default" (for floats, not all-zero bits, so -0.0 is
  // set, as protobuf decides).
  bool (*has)(const google::protobuf::Message&) = nullptr;
  int64_t (*get_signed)(const google::protobuf::Message&) = nullptr;
  void (*set_signed)(google::protobuf::Message*, int64_t) = nullptr;
  uint64_t (*get_unsigned)(const google::protobuf::Message&) = nullptr;
  void (*set_unsigned)(google::protobuf::Message*, uint64_t) = nullptr;
  double (*get_double)(const google::protobuf::Message&) = nullptr;
  void (*set_double)(google::protobuf::Message*, double) = nullptr;
  const std::string& (*get_string)(const google::protobuf::Message&) = nullptr;
  std::string* (*mutable_string)(google::protobuf::Message*) = nullptr;
};

// The accessors of one generated class.
struct MessageAccess {
  const std::type_info* type = nullptr;  // The generated class.
  // Indexed by field number (0 and unregistered numbers: number == 0).
  const FieldAccess* by_number = nullptr;
  int max_number = 0;

  // The field's accessor, or nullptr.
  const FieldAccess* Find(int number) const {
    if (number <= 0 || number > max_number) return nullptr;
    const FieldAccess& a = by_number[number];
    return a.number == number ? &a : nullptr;
  }
  // Whether `message` is of the registered class (else: Reflection).
  bool Covers(const google::protobuf::Message& message) const {
    return typeid(message) == *type;
  }
};

// Fields numbered above this are left to Reflection (MessageAccess keeps a
// table indexed by number).
inline constexpr int kMaxAccessNumber = 4096;

// Registers the accessors of the class named `full_name` (the message's
// proto full name). Called once per class by generated code, during static
// initialization (so it takes no descriptor: those may not be built yet).
// Returns true, for the static it initializes. Registering a name twice keeps
// the first (two copies of one generated file in a binary are identical).
bool RegisterMessageAccess(absl::string_view full_name,
                           const std::type_info& type,
                           std::initializer_list<FieldAccess> fields);

// The accessors registered for `full_name`, or nullptr.
const MessageAccess* FindMessageAccess(absl::string_view full_name);

// The builders generated code calls, one per kind of field. M: the message
// class; T: the accessor's C++ type; Get/Set/Mutable/Has: its generated
// members.
template <typename M, typename T, T (M::*Get)() const, void (M::*Set)(T)>
FieldAccess SignedField(int number,
                        bool (*has)(const google::protobuf::Message&)) {
  FieldAccess a;
  a.number = number;
  a.has = has;
  a.get_signed = [](const google::protobuf::Message& m) -> int64_t {
    return (static_cast<const M&>(m).*Get)();
  };
  a.set_signed = [](google::protobuf::Message* m, int64_t v) {
    (static_cast<M*>(m)->*Set)(static_cast<T>(v));
  };
  return a;
}

template <typename M, typename T, T (M::*Get)() const, void (M::*Set)(T)>
FieldAccess UnsignedField(int number,
                          bool (*has)(const google::protobuf::Message&)) {
  FieldAccess a;
  a.number = number;
  a.has = has;
  a.get_unsigned = [](const google::protobuf::Message& m) -> uint64_t {
    return (static_cast<const M&>(m).*Get)();
  };
  a.set_unsigned = [](google::protobuf::Message* m, uint64_t v) {
    (static_cast<M*>(m)->*Set)(static_cast<T>(v));
  };
  return a;
}

template <typename M, typename T, T (M::*Get)() const, void (M::*Set)(T)>
FieldAccess FloatingField(int number,
                          bool (*has)(const google::protobuf::Message&)) {
  FieldAccess a;
  a.number = number;
  a.has = has;
  a.get_double = [](const google::protobuf::Message& m) -> double {
    return (static_cast<const M&>(m).*Get)();
  };
  a.set_double = [](google::protobuf::Message* m, double v) {
    (static_cast<M*>(m)->*Set)(static_cast<T>(v));
  };
  return a;
}

template <typename M, const std::string& (M::*Get)() const,
          std::string* (M::*Mutable)()>
FieldAccess StringField(int number,
                        bool (*has)(const google::protobuf::Message&)) {
  FieldAccess a;
  a.number = number;
  a.has = has;
  a.get_string = [](const google::protobuf::Message& m) -> const std::string& {
    return (static_cast<const M&>(m).*Get)();
  };
  a.mutable_string = [](google::protobuf::Message* m) -> std::string* {
    return (static_cast<M*>(m)->*Mutable)();
  };
  return a;
}

// Presence tests, for the `has` argument of the builders.
template <typename M, bool (M::*Has)() const>
bool ExplicitPresence(const google::protobuf::Message& m) {
  return (static_cast<const M&>(m).*Has)();
}
template <typename M, typename T, T (M::*Get)() const>
bool NotZero(const google::protobuf::Message& m) {
  const T v = (static_cast<const M&>(m).*Get)();
  if constexpr (sizeof(T) == 8 && !std::is_integral<T>::value) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    return bits != 0;
  } else if constexpr (sizeof(T) == 4 && !std::is_integral<T>::value) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    return bits != 0;
  } else {
    return v != T{};
  }
}
template <typename M, const std::string& (M::*Get)() const>
bool NotEmpty(const google::protobuf::Message& m) {
  return !(static_cast<const M&>(m).*Get)().empty();
}

}  // namespace zen::codegen_runtime

#endif  // ZEN_CODEGEN_RUNTIME_FIELD_ACCESS_H_
