# Guards `make demo`: jwks_verify_demo (demo/, compiled for the tests through
# erlc_paths) plays every scenario with its expected outcome over real
# loopback HTTP, prints the table the README shows, and ends by itself well
# under a minute, leaving no server behind.
defmodule JwksVerify.DemoTest do
  use ExUnit.Case, async: false

  import ExUnit.CaptureIO

  @moduletag :capture_log

  @rows [
    {"public route, no token", 200, "-"},
    {"no token", 401, "missing bearer token"},
    {"tampered token (sub: admin)", 401, "invalid signature"},
    {"expired token", 401, "token expired"},
    {"wrong issuer", 401, "invalid issuer"},
    {"valid token", 200, "-"},
    {"key rotation: token from the new key", 200, "-"},
    {"retired key after the rotation", 401, "unknown key id"}
  ]

  test "plays every scenario as expected and prints the table" do
    httpd_before = httpd_servers()

    {micros, out} =
      :timer.tc(fn ->
        capture_io(fn -> send(self(), {:result, :jwks_verify_demo.run(%{samples: 50})}) end)
      end)

    assert_received {:result, {:ok, results}}
    assert micros < 60_000_000

    assert out =~ ~r/^#\s+scenario\s+status\s+expected\s+details\s+time$/m

    for {{scenario, status, details}, i} <- Enum.with_index(@rows, 1) do
      row =
        ~r/^#{i}\s+#{Regex.escape(scenario)}\s+#{status}\s+#{status} ok\s+#{Regex.escape(details)}\s+\d+(\.\d)? (µs|ms)$/m

      assert out =~ row, "no row #{i} (#{scenario}) in:\n#{out}"
    end

    assert length(results) == length(@rows)
    assert Enum.all?(results, &(&1.status == &1.expected))

    assert out =~
             ~r/^  \{"message":"Access granted","user":\{"aud":"demo-api","exp":\d+,"iat":\d+,"iss":"http:\/\/127.0.0.1:\d+\/","name":"Alice","scope":"read:messages","sub":"alice"\}\}$/m

    assert out =~
             ~s(  www-authenticate: Bearer error="invalid_token", error_description="token expired"\n)

    assert out =~ ~s(  {"error":"Unauthorized","details":"token expired"}\n)
    assert out =~ "JWKS requests the issuer served: 2 (the first fetch, then one refetch"

    assert out =~ ~r/HTTP round trip on loopback\s+\d+(\.\d)? (µs|ms) \/ \d+/
    assert out =~ ~r/jwks_verify:verify\/3 alone\s+\d+(\.\d)? (µs|ms) \/ \d+/
    assert out =~ "All 8 scenarios as expected"

    # Everything it started is stopped.
    assert httpd_servers() == httpd_before
    refute Process.whereis(:jwks_verify_demo_jwks)
  end

  defp httpd_servers, do: for({:httpd, pid, _} <- :inets.services_info(), do: pid)
end
