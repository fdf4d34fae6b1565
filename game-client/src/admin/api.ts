// The operator console's calls to /admin/api/... with the bearer token, and what their refusals mean.

export interface Player {
  id: number;
  name: string;
  away: boolean;
}

export interface LobbyView {
  id: number;
  code: string;
  name: string;
  game: string;
  public: boolean;
  max_players: number;
  players: Player[];
  spectators: number;
  host: number | null;
  tick_p50_us: number;
  tick_p99_us: number;
  bytes_per_sec: number;
  /** Its replay's id when the server records (`/#replay/ID` plays it). */
  replay: string | null;
}

export interface Sample {
  t: number;
  players: number;
  connections: number;
  cpu: number | null;
  overruns: number;
}

export interface Overview {
  tick_rate: number;
  /** Lobbies on the node; `lobbies` lists the fullest 200. */
  lobby_count: number;
  lobbies: LobbyView[];
  series: Sample[];
}

/** A refused or failed call: its HTTP status (0: no answer) and what to tell the operator. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What a status means to the operator. */
export function explain(status: number, body = ""): string {
  switch (status) {
    case 401:
      return "This console needs the server's admin token (admin.token). The token given is missing or wrong.";
    case 404:
      return body.includes("admin routes are off")
        ? "Admin is off on this server: it has no admin token. Set admin.token (or TICKRELAY__ADMIN__TOKEN) and restart it."
        : body.trim() || "Not found.";
    case 403:
      return "Refused: this request came from another origin than the server's.";
    case 0:
      return "The server did not answer.";
    default:
      return body.trim() || `The server answered ${status}.`;
  }
}

/** The error text in a JSON body (`{"error": ...}`), or the body itself. */
function bodyText(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (typeof j.error === "string") return j.error;
  } catch {
    // Plain text.
  }
  return text;
}

export class Api {
  constructor(private readonly token: string) {}

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers: {
          Authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, explain(0));
    }
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, explain(res.status, bodyText(text)));
    return JSON.parse(text) as T;
  }

  overview(): Promise<Overview> {
    return this.call("GET", "/admin/api/overview");
  }

  kick(lobby: number, player: number, reason: string): Promise<unknown> {
    return this.call("POST", `/admin/api/lobbies/${lobby}/kick`, { player, reason });
  }

  close(lobby: number, reason: string): Promise<unknown> {
    return this.call("POST", `/admin/api/lobbies/${lobby}/close`, { reason });
  }
}
