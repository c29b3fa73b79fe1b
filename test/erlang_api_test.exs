# Guards the plain-Erlang API: runs the EUnit module test/erl/jwks_verify_tests.erl,
# which calls :jwks_verify with maps and binaries exactly as an Erlang user would.
defmodule JwksVerify.ErlangApiTest do
  use ExUnit.Case, async: true

  test "jwks_verify_tests (EUnit) passes" do
    assert :eunit.test(:jwks_verify_tests, [:verbose]) == :ok
  end
end
