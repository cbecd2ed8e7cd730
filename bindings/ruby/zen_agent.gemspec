# frozen_string_literal: true

require_relative "lib/zen_agent/version"

# Built by Bazel (//bindings/ruby:gem), which puts the C library next to
# lib/zen_agent/native.rb first; docs/ruby.md has the details.
Gem::Specification.new do |spec|
  spec.name = "zen_agent"
  spec.version = ZenAgent::VERSION
  spec.summary = "The worker-process agent for Puma and Unicorn"
  spec.description = "One agent in the master of a pre-forking server: " \
                     "settings, one rate limiter and statistics shared by " \
                     "every worker over an authenticated loopback socket."
  spec.authors = ["zen_agent authors"]
  spec.homepage = "https://github.com/AikidoSec/firewall-ruby"
  # The gem carries a compiled library (libzen_agent.so.1) for this machine.
  spec.platform = Gem::Platform.local
  spec.required_ruby_version = ">= 2.7"
  spec.files = %w[
    lib/zen_agent.rb
    lib/zen_agent/agent.rb
    lib/zen_agent/error.rb
    lib/zen_agent/native.rb
    lib/zen_agent/version.rb
    lib/zen_agent/libzen_agent.so.1
  ]
  spec.require_paths = ["lib"]
  # Debian 12's ruby-ffi (1.15.5) satisfies this; nothing else is needed.
  spec.add_runtime_dependency "ffi", ">= 1.15", "< 2"
end
