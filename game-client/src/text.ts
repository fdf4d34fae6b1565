// Plain-words text for server error codes, lobby events and close reasons.

import { ErrorCode, LobbyEventKind } from "./protocol";

/** What to tell the player about an `Error` frame. */
export function errorText(code: number, serverMessage: string): string {
  switch (code) {
    case ErrorCode.BAD_VERSION:
      return "Version mismatch: this page does not match the server. Reload the page.";
    case ErrorCode.LOBBY_NOT_FOUND:
      return "No lobby has that code. Check it and try again.";
    case ErrorCode.LOBBY_FULL:
      return "That lobby is full.";
    case ErrorCode.LOBBY_LIMIT:
      return "The server is running as many lobbies as it can. Join one, or try again soon.";
    case ErrorCode.RATE_LIMITED:
      return "Slow down a little: too many messages.";
    case ErrorCode.RECONNECT_FAILED:
      return "Your seat expired while you were away.";
    case ErrorCode.NOT_HOST:
      return "Only the lobby's host can do that.";
    case ErrorCode.ALREADY_IN_LOBBY:
      return "You are already in a lobby: leave it first.";
    case ErrorCode.SHUTTING_DOWN:
      return "The server is shutting down and takes no new lobbies.";
    case ErrorCode.OVERLOADED:
      return "The lobby is busy right now. Try again.";
    case ErrorCode.CLUSTER_UNAVAILABLE:
      return "That lobby is on another server, which this one cannot reach right now. Try again in a moment.";
    case ErrorCode.TICKET_REFUSED:
      return "The lobby's server did not let us in (the seat we were sent there for expired or was taken). Try joining again.";
    default:
      // Bad request and the like: the server's own message says which field.
      return serverMessage !== "" ? serverMessage : `The server refused that (error ${code}).`;
  }
}

/** The chat line for a lobby event, or null for none. */
export function lobbyEventText(kind: number, name: string): string | null {
  switch (kind) {
    case LobbyEventKind.JOINED:
      return `${name} joined`;
    case LobbyEventKind.LEFT:
      return `${name} left`;
    case LobbyEventKind.HOST_CHANGED:
      return `${name} is now the host`;
    case LobbyEventKind.AWAY:
      return `${name} lost connection`;
    case LobbyEventKind.BACK:
      return `${name} is back`;
    case LobbyEventKind.ROUND_RESTARTED:
      return "The round was restarted: scores reset";
    default:
      return null;
  }
}

/** Said on the lobby screen when the invite link's fragment is not a lobby code (it was cleared). */
export function badInviteText(raw: string): string {
  return `The invite link ended in "#${raw}", which is not a lobby code (6 letters and digits, like K7QM2X). It was removed from the address bar.`;
}

/** Said on the lobby screen when the invite link's lobby does not exist (any more); the link was cleared. */
export function unknownInviteText(code: string): string {
  return `No lobby has the code ${code}: it may have closed, or the link is mistyped. It was removed from the address bar.`;
}
