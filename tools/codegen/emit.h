// The emitters: write generated C++ for a FileModel through io::Printer.
// They only print; every decision about names and options was made when the
// model was built (generator.cc).
#ifndef ZEN_TOOLS_CODEGEN_EMIT_H_
#define ZEN_TOOLS_CODEGEN_EMIT_H_

#include "google/protobuf/io/printer.h"
#include "tools/codegen/model.h"

namespace zen::codegen {

// `<file>.zenrpc.h`: one class per service holding Service, Stub and the
// wire-name constants.
void EmitHeader(const FileModel& file, google::protobuf::io::Printer* printer);

// `<file>.zenrpc.cc`: the method codecs, Service::RegisterOn, the default
// (UNIMPLEMENTED) methods and the Stub methods.
void EmitSource(const FileModel& file, google::protobuf::io::Printer* printer);

// The registration of file.messages' accessors (EmitSource calls it).
void EmitAccess(const FileModel& file, google::protobuf::io::Printer* printer);

}  // namespace zen::codegen

#endif  // ZEN_TOOLS_CODEGEN_EMIT_H_
