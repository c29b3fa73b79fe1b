# Guards the RFCs' own signature examples (RFC 7515 Appendix A.2, A.3, A.4 and
# RFC 8037 Appendix A.4, plus JWTs signed by OTP with the RFC keys): each one's
# `expect` is the answer of verify/3 at its `now` with its `algs`, and its
# `signature` the answer of verify_jws/3, which does not read the payload.
#
# The examples stay beside the checkout, in ../shared/vectors/rfc_examples.json
# (or under the folder named by JWKS_VERIFY_VECTORS); where absent, skipped.
defmodule JwksVerify.RfcExamplesTest do
  use ExUnit.Case, async: true

  @vectors System.get_env("JWKS_VERIFY_VECTORS") || Path.expand("../shared/vectors", File.cwd!())
  @path Path.join(@vectors, "rfc_examples.json")

  @examples (if File.exists?(@path) do
               @path |> File.read!() |> :jiffy.decode([:return_maps]) |> Map.fetch!("tests")
             else
               []
             end)

  # The JWT-level refusal each `why` describes.
  @reasons [{~r/^expired/, :expired}, {~r/not a JSON object/, :bad_payload}]

  if @examples == [] do
    IO.puts("rfc_examples_test: skipped, #{@path} not found (set JWKS_VERIFY_VECTORS)")
    @moduletag skip: "#{@path} not found"
  end

  test "the file holds the seven examples" do
    assert length(@examples) == 7
  end

  test "verify/3 gives each example's expect" do
    for ex <- @examples do
      got = JwksVerify.verify(ex["token"], key_set(ex), algs: ex["algs"], now: ex["now"])

      want =
        case ex["expect"] do
          "ok" -> {:ok, ex["claims"]}
          "error" -> {:error, reason(ex["why"])}
        end

      assert got == want, "#{ex["id"]} (#{ex["source"]})"
    end
  end

  test "verify_jws/3 gives each example's signature, with the header and payload bytes" do
    for ex <- @examples do
      got = JwksVerify.verify_jws(ex["token"], key_set(ex), algs: ex["algs"], now: ex["now"])
      [h, p, _] = String.split(ex["token"], ".")

      case ex["signature"] do
        "valid" ->
          assert {:ok, %{header: header, payload: payload}} = got, ex["id"]
          assert header == decode(h), ex["id"]
          assert payload == Base.url_decode64!(p, padding: false), ex["id"]

        "invalid" ->
          assert {:error, _} = got, ex["id"]
      end
    end
  end

  defp key_set(ex) do
    {:ok, ks} = JwksVerify.key_set(:jiffy.encode(ex["jwks"]))
    ks
  end

  defp reason(why) do
    case Enum.find(@reasons, fn {re, _} -> Regex.match?(re, why) end) do
      {_, reason} -> reason
      nil -> flunk("no reason known for #{inspect(why)}")
    end
  end

  defp decode(b64), do: b64 |> Base.url_decode64!(padding: false) |> :jiffy.decode([:return_maps])
end
