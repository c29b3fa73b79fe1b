# Guards `mix jwks_verify.verify`: the header and claims printed as the token
# carries them (even when it fails), the verdict with the exact reason, exit
# status 0/1, and the key set read from a file and from a loopback URL.
defmodule Mix.Tasks.JwksVerify.VerifyTest do
  use ExUnit.Case, async: false

  import ExUnit.CaptureIO
  import JwksVerify.TokenHelpers
  import JwksVerify.PlugTestHelpers

  setup_all do
    key = rsa_key()
    jwks = jwks_for([{key, "k1"}])
    issuer = start_issuer(jwks)
    on_exit(fn -> stop_issuer(issuer) end)
    %{key: key, jwks: jwks, issuer: issuer}
  end

  setup %{jwks: jwks} do
    dir = Path.join(System.tmp_dir!(), "jwks_verify_cli_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    path = Path.join(dir, "jwks.json")
    File.write!(path, jwks)
    %{jwks_file: path, dir: dir}
  end

  # {exit status, output}
  defp run_task(args, input \\ "") do
    parent = self()

    output =
      capture_io(input, fn ->
        status =
          try do
            Mix.Tasks.JwksVerify.Verify.run(args)
            0
          catch
            :exit, {:shutdown, status} -> status
          end

        send(parent, {:status, status})
      end)

    assert_received {:status, status}
    {status, output}
  end

  describe "with a JWKS file" do
    test "a valid token: header, claims, keys, verdict; status 0", %{key: key, jwks_file: file} do
      claims = claims()
      token = rs256(key, "k1", claims)
      {status, out} = run_task([token, "--jwks", file, "--iss", iss(), "--aud", aud()])

      assert status == 0
      {h, p, _} = segments(token)
      assert out =~ "Header\n  #{unb64!(h)}\n"
      assert out =~ "Claims\n  #{unb64!(p)}\n"
      assert out =~ "#{file}: 1 key(s), 1 usable"
      assert out =~ ~s("k1" RSA RS256 usable)
      assert out =~ "Verdict\n  valid\n"
      assert out =~ ~r/exp \S+ \S+ \(in 30\d s\)/
      refute out =~ "not checked"
    end

    test "a failing token still shows its header and claims; status 1", %{
      key: key,
      jwks_file: file
    } do
      token = rs256(key, "k1", claims(%{"exp" => now() - 60}))
      {status, out} = run_task([token, "--jwks", file])
      assert status == 1
      assert out =~ ~s("exp":)
      assert out =~ "Verdict\n  invalid: :expired (token expired)\n"
    end

    test "each check the options ask for", %{key: key, jwks_file: file} do
      token = rs256(key, "k1", claims())

      for {args, verdict} <- [
            {["--iss", "https://other.test/"], "invalid: :invalid_issuer (invalid issuer)"},
            {["--aud", "other"], "invalid: :invalid_audience (invalid audience)"},
            {["--alg", "ES256"], "invalid: :alg_not_allowed (algorithm not allowed)"},
            {["--required", "scope"], ~s[invalid: {:missing_claim, "scope"}]},
            {["--now", "#{now() + 3600}"], "invalid: :expired"},
            {["--now", "#{now() + 3600}", "--leeway", "7200", "--aud", aud()], "valid"},
            # RFC 7519 §4.1.3: a token with aud, and no audience given
            {[], "invalid: :invalid_audience (invalid audience)"}
          ] do
        {_status, out} = run_task([token, "--jwks", file] ++ args)
        assert out =~ verdict, "#{inspect(args)}: #{out}"
      end

      no_aud = rs256(key, "k1", Map.delete(claims(), "aud"))
      {_status, out} = run_task([no_aud, "--jwks", file])
      assert out =~ "not checked: iss (give --iss)\n", out

      {0, out} = run_task([token, "--jwks", file, "--any-aud"])
      assert out =~ "Verdict\n  valid\n", out
      assert out =~ "not checked: iss (give --iss), aud (--any-aud)", out
    end

    test "the token from standard input with -", %{key: key, jwks_file: file} do
      token = rs256(key, "k1", claims())
      assert {0, out} = run_task(["-", "--jwks", file, "--aud", aud()], token <> "\n")
      assert out =~ "valid"
    end

    # Issue 14: a pasted "Bearer eyJ..." answered bad_base64 with no hint.
    test "a pasted Bearer prefix or authorization line is dropped, and said so", ctx do
      %{key: key, jwks_file: file} = ctx
      token = rs256(key, "k1", claims())
      {h, _, _} = segments(token)

      for {pasted, dropped} <- [
            {"Bearer " <> token, "Bearer"},
            {"bearer  " <> token, "bearer"},
            {"BEARER\t" <> token, "BEARER"},
            {"Authorization: Bearer " <> token, "Authorization: Bearer"},
            {"authorization:Bearer " <> token, "authorization:Bearer"}
          ] do
        assert {0, out} = run_task([pasted, "--jwks", file, "--aud", aud()]), pasted
        assert out =~ "Note\n  dropped #{inspect(dropped)}: the token is what follows it\n"
        assert out =~ "Header\n  #{unb64!(h)}\n"
        assert out =~ "Verdict\n  valid\n"
      end

      assert {0, out} =
               run_task(["-", "--jwks", file, "--aud", aud()], "Bearer " <> token <> "\n")

      assert out =~ ~s(dropped "Bearer")
      assert out =~ "Verdict\n  valid\n"

      # A bare token: no note.
      assert {0, out} = run_task([token, "--jwks", file, "--aud", aud()])
      refute out =~ "Note"
    end

    test "whitespace left inside the token gets a hint", %{key: key, jwks_file: file} do
      token = rs256(key, "k1", claims())
      {h, p, s} = segments(token)
      assert {1, out} = run_task(["#{h}.#{p} .#{s}", "--jwks", file])
      assert out =~ "the token holds whitespace: give the compact JWT alone"
      assert {1, out} = run_task(["Token " <> token, "--jwks", file])
      assert out =~ "the token holds whitespace"
      assert {1, out} = run_task(["#{h}.#{p}.#{s}x", "--jwks", file])
      refute out =~ "whitespace"
    end

    # Issue 14: an expired token's verdict says how long ago it expired.
    test "a token off the clock says by how much, and the time", %{key: key, jwks_file: file} do
      exp = 1_796_000_000
      iso = exp |> DateTime.from_unix!() |> DateTime.to_iso8601()
      token = rs256(key, "k1", claims(%{"iat" => exp - 600, "exp" => exp}))

      for {later, ago} <- [
            {3 * 3600 + 12 * 60 + 9, "3 h 12 min"},
            {42, "42 s"},
            {12 * 60 + 5, "12 min 5 s"},
            {2 * 86_400 + 4 * 3600 + 59, "2 d 4 h"},
            {3600 + 7, "1 h"}
          ] do
        assert {1, out} = run_task([token, "--jwks", file, "--now", "#{exp + later}"])

        assert out =~
                 "Verdict\n  invalid: :expired (token expired)\n  expired #{ago} ago (exp #{iso})\n"
      end

      nbf = exp + 300
      token = rs256(key, "k1", claims(%{"iat" => exp - 600, "nbf" => nbf, "exp" => exp + 600}))
      assert {1, out} = run_task([token, "--jwks", file, "--now", "#{exp}"])
      nbf_iso = nbf |> DateTime.from_unix!() |> DateTime.to_iso8601()
      assert out =~ "  not valid for another 5 min (nbf #{nbf_iso})\n"
    end

    test "a token that is not a JWS", %{jwks_file: file} do
      assert {1, out} = run_task(["abc.def", "--jwks", file])
      assert out =~ "Token\n  2 segment(s), a compact JWS has 3"
      assert out =~ "invalid: :malformed_token (malformed token)"

      assert {1, out} = run_task(["!!.e30.x", "--jwks", file])
      assert out =~ "Header\n  (not base64url)"
      assert out =~ "Claims\n  {}"
    end

    test "a missing file or a bad JWKS", %{key: key, dir: dir} do
      token = rs256(key, "k1", claims())
      assert {1, out} = run_task([token, "--jwks", Path.join(dir, "nope.json")])
      assert out =~ "not verified: cannot read"

      File.write!(Path.join(dir, "bad.json"), "{")
      assert {1, out} = run_task([token, "--jwks", Path.join(dir, "bad.json")])
      assert out =~ "not verified: the JWKS is unusable: :bad_json"
    end

    test "usage errors raise" do
      assert_raise Mix.Error, ~r/usage/, fn -> Mix.Tasks.JwksVerify.Verify.run([]) end
      assert_raise Mix.Error, ~r/--jwks/, fn -> Mix.Tasks.JwksVerify.Verify.run(["t"]) end

      assert_raise Mix.Error, ~r/bad option/, fn ->
        Mix.Tasks.JwksVerify.Verify.run(["t", "--jwks", "f", "--alg", "HS256"])
      end
    end
  end

  describe "with a JWKS URL on loopback" do
    test "fetches the key set over HTTP", %{key: key, issuer: issuer} do
      token = rs256(key, "k1", claims())
      hits = hits(issuer)
      {status, out} = run_task([token, "--jwks", issuer.url, "--iss", iss(), "--aud", aud()])
      assert status == 0
      assert out =~ "#{issuer.url}: 1 key(s), 1 usable"
      assert out =~ "Verdict\n  valid\n"
      assert hits(issuer) == hits + 1
    end

    test "an unknown kid, and an issuer answering 500", %{key: key, jwks: jwks, issuer: issuer} do
      token = rs256(key, "k9", claims())
      assert {1, out} = run_task([token, "--jwks", issuer.url])
      assert out =~ "invalid: :unknown_kid (unknown key id)"

      set_status(issuer, 500)
      on_exit(fn -> set_status(issuer, 200) && publish(issuer, jwks) end)
      assert {1, out} = run_task([token, "--jwks", issuer.url])
      assert out =~ "not verified: #{issuer.url} answered HTTP 500"
    end

    test "nothing listening" do
      {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
      {:ok, port} = :inet.port(socket)
      :gen_tcp.close(socket)
      assert {1, out} = run_task(["a.b.c", "--jwks", "http://127.0.0.1:#{port}/jwks.json"])
      assert out =~ "not verified: cannot fetch"
    end
  end
end
