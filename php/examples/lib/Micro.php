<?php

declare(strict_types=1);

namespace Example;

/**
 * A stand-in for Phalcon\Mvc\Micro, just large enough for the example (Phalcon is not
 * installable here): GET routes, "before" handlers that stop the request by returning
 * false, JSON responses. BearerGuard is written against the same steps as the Phalcon
 * handler in php/README.md: read the path and the Authorization header, answer or pass on.
 */
final class Micro
{
    /** @var array<string, callable(Micro): mixed> */
    private array $routes = [];
    /** @var list<callable(Micro): bool> */
    private array $before = [];

    /** What the guard leaves for the routes: the verified claims. */
    public array $claims = [];

    public function before(callable $handler): void
    {
        $this->before[] = $handler;
    }

    public function get(string $path, callable $handler): void
    {
        $this->routes[$path] = $handler;
    }

    public function path(): string
    {
        return (string)parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
    }

    /** The request header's value, or null when absent (names are case-insensitive). */
    public function header(string $name): ?string
    {
        foreach (getallheaders() as $k => $v) {
            if (strcasecmp($k, $name) === 0) {
                return $v;
            }
        }
        return null;
    }

    /** @param array<string, string> $headers */
    public function json(int $status, mixed $body, array $headers = []): void
    {
        header('Content-Type: application/json');
        foreach ($headers as $name => $value) {
            header("$name: $value");
        }
        // After the headers: PHP turns any response with WWW-Authenticate into a 401.
        http_response_code($status);
        echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
    }

    public function handle(): void
    {
        if (($_SERVER['REQUEST_METHOD'] ?? 'GET') !== 'GET') {
            $this->json(405, ['error' => 'Method Not Allowed']);
            return;
        }
        foreach ($this->before as $handler) {
            if ($handler($this) === false) {
                return;
            }
        }
        $route = $this->routes[$this->path()] ?? null;
        if ($route === null) {
            $this->json(404, ['error' => 'Not Found']);
            return;
        }
        $this->json(200, $route($this));
    }
}
