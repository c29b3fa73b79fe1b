defmodule JwksVerify.TelemetryHelpers do
  @moduledoc """
  Telemetry for the tests: `ensure!/0` makes `:telemetry` loadable (the real
  library when the build has it, else the stand-in `test/support/telemetry.erl`),
  and `record/1` attaches a handler that sends every event it sees to the
  test process as `{:telemetry, event, measurements, metadata, emitter}`.

  Only the library's own API is used (`attach_many/4`, `detach/1`), so the
  tests run unchanged against the real `:telemetry`.
  """

  import ExUnit.Callbacks, only: [on_exit: 1]

  # The stand-in is compiled at test time, the library may be absent.
  @compile {:no_warn_undefined, :telemetry}

  @source Path.expand("telemetry.erl", __DIR__)

  @doc """
  Makes `:telemetry` loadable and loads it; answers `:real` or `:stand_in`.
  The stand-in is compiled into `_build/<env>/telemetry_stand_in`, which goes
  on the code path, so `:code.ensure_loaded(:telemetry)` finds it there as
  it would find the library.
  """
  @spec ensure!() :: :real | :stand_in
  def ensure! do
    unless Code.ensure_loaded?(:telemetry) do
      dir = Path.join(Mix.Project.build_path(), "telemetry_stand_in")
      File.mkdir_p!(dir)

      {:ok, :telemetry, []} =
        :compile.file(String.to_charlist(@source), [
          :return_errors,
          :return_warnings,
          :warnings_as_errors,
          outdir: String.to_charlist(dir)
        ])

      true = :code.add_patha(String.to_charlist(dir))
      {:module, :telemetry} = :code.ensure_loaded(:telemetry)
    end

    kind()
  end

  @doc "Whether the loaded `:telemetry` is the library or the stand-in."
  @spec kind() :: :real | :stand_in
  def kind do
    if Keyword.has_key?(:telemetry.module_info(:attributes), :jwks_verify_stand_in),
      do: :stand_in,
      else: :real
  end

  @doc """
  Runs `fun` with no `:telemetry` at all: the stand-in unloaded and off the
  code path, as in an application without the library. Then puts it back.
  """
  @spec without((() -> result)) :: result when result: var
  def without(fun) do
    :stand_in = kind()
    dir = :code.which(:telemetry) |> Path.dirname() |> String.to_charlist()
    true = :code.del_path(dir)
    :code.purge(:telemetry)
    true = :code.delete(:telemetry)
    :code.purge(:telemetry)

    try do
      fun.()
    after
      true = :code.add_patha(dir)
      {:module, :telemetry} = :code.ensure_loaded(:telemetry)
    end
  end

  @doc """
  Attaches a handler for `events` that sends each one to the calling process,
  detached when the test exits.
  """
  @spec record([[atom()]]) :: term()
  def record(events) do
    id = {__MODULE__, make_ref()}
    :ok = :telemetry.attach_many(id, events, &__MODULE__.handle/4, self())
    on_exit(fn -> :telemetry.detach(id) end)
    id
  end

  @doc false
  def handle(event, measurements, metadata, pid),
    do: send(pid, {:telemetry, event, measurements, metadata, self()})
end
