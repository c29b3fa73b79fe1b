# Guards "plain Erlang is a first-class user": builds src/ with erlc alone
# into a temporary lib dir (its priv a link to the repository's priv, where
# the NIF is), then runs test/bare_erlang/jwks_verify_bare.erl in a bare
# `erl -boot start_clean` whose code path holds OTP and that build only, no
# Elixir lib dir at all. The script calls key_set/1 and verify/3, runs a cache
# with a static JWKS and one fetching from a loopback issuer, and OTP's httpd
# guarded by jwks_verify_httpd (200, 401, 400, and a start refused for a bad
# guard option); this test fails unless every one of its checks passes.
defmodule JwksVerify.BareErlangTest do
  use ExUnit.Case, async: true

  @root Path.expand("..", __DIR__)

  @checks [
    "no elixir on the code path",
    "jwks_verify:key_set/1",
    "jwks_verify:verify/3 valid",
    "jwks_verify:verify/3 expired",
    "jwks_verify:verify/3 wrong audience",
    "jwks_verify:verify/3 tampered",
    "jwks_verify_cache static start",
    "jwks_verify_cache static verify",
    "jwks_verify_cache http start",
    "jwks_verify_cache http status",
    "jwks_verify_cache http verify",
    "httpd /public",
    "httpd no token",
    "httpd valid token",
    "httpd expired token",
    "httpd Bearer without a token",
    "httpd bad guard option",
    "no elixir module loaded"
  ]

  test "nothing in src/ calls an Elixir module" do
    for file <- Path.wildcard(Path.join(@root, "src/*.erl")) do
      refute File.read!(file) =~ "'Elixir.", file
    end
  end

  test "src/ built by erlc alone serves an Erlang user in an erl without Elixir" do
    dir = tmp_dir!("jwks_verify_bare")
    ebin = Path.join(dir, "lib/jwks_verify/ebin")
    test_ebin = Path.join(dir, "test_ebin")
    File.mkdir_p!(ebin)
    File.mkdir_p!(test_ebin)
    priv = Path.join(@root, "priv")
    assert File.exists?(Path.join(priv, "jwks_verify_nif.so")), "build the NIF first"
    File.ln_s!(priv, Path.join(dir, "lib/jwks_verify/priv"))

    erlc(["-o", ebin | Path.wildcard(Path.join(@root, "src/*.erl"))])
    erlc(["-o", test_ebin, Path.join(@root, "test/bare_erlang/jwks_verify_bare.erl")])
    assert Enum.all?(File.ls!(ebin), &String.starts_with?(&1, "jwks_verify"))

    {out, status} =
      System.cmd(
        System.find_executable("erl"),
        ~w(-noshell -boot start_clean -pa #{ebin} -pa #{test_ebin} -run jwks_verify_bare main),
        cd: dir,
        stderr_to_stdout: true,
        # Nothing from this VM's environment may add code paths or flags.
        env: for(v <- ~w(ERL_LIBS ERL_FLAGS ERL_AFLAGS ERL_ZFLAGS), do: {v, nil})
      )

    assert status == 0, out

    for check <- @checks do
      assert out =~ ~r/^ok #{Regex.escape(check)}$/m, "no \"ok #{check}\" in:\n#{out}"
    end

    refute out =~ ~r/^FAIL /m, out
    assert out =~ "bare erlang: all checks ok"
  end

  defp erlc(args) do
    {out, status} =
      System.cmd(System.find_executable("erlc"), ["+warnings_as_errors" | args],
        stderr_to_stdout: true
      )

    assert status == 0, out
  end

  # A fresh directory under the system's temporary directory, removed on exit.
  defp tmp_dir!(prefix) do
    dir = Path.join(System.tmp_dir!(), "#{prefix}_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    dir
  end
end
