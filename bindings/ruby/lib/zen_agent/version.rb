# frozen_string_literal: true

module ZenAgent
  # The gem's version: the C library's (libzen_agent.so.1) it carries.
  VERSION = "1.1.0"
end
