defmodule JwksVerify.Options do
  @moduledoc """
  Options validated once by `JwksVerify.options/1`, for repeated use with
  `JwksVerify.verify/3` and `JwksVerify.verify_jws/3`.

  The value is opaque: build it with `JwksVerify.options/1` and pass it on.
  It inspects as the options it holds:

      iex> JwksVerify.options(algs: ["ES256"], leeway: 5)
      #JwksVerify.Options<algs: ["ES256"], leeway: 5, max_token_bytes: 32768, required: ["exp"]>
  """

  @enforce_keys [:prepared]
  defstruct [:prepared]

  @opaque t :: %__MODULE__{prepared: :jwks_verify.prepared_opts()}

  defimpl Inspect do
    import Inspect.Algebra

    def inspect(%{prepared: prepared}, opts) do
      fields = prepared |> :jwks_verify.options_map() |> Enum.sort()
      container_doc("#JwksVerify.Options<", fields, ">", opts, &field/2, break: :flex)
    end

    defp field({key, value}, opts), do: concat(["#{key}: ", to_doc(value, opts)])
  end
end
