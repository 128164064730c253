import { useEffect, useState, type FormEvent } from 'react';
import { useAuth } from '@gatehouse/client/react';

interface Note {
  readonly id: string;
  readonly text: string;
}

/** The error code in a failed API answer, for display. */
async function codeOf(response: Response): Promise<string> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: string } } | null;
  return body?.error?.code ?? `HTTP ${response.status}`;
}

export function Account() {
  const { user, client, logout } = useAuth();
  const [notes, setNotes] = useState<readonly Note[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    void client.fetch('/api/notes').then(async (response) => {
      if (!live) return;
      if (response.ok) setNotes(((await response.json()) as { notes: Note[] }).notes);
      else setError(await codeOf(response));
    });
    return () => {
      live = false;
    };
  }, [client]);

  async function addNote(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const text = String(new FormData(form).get('text'));
    // client.fetch sends the cookies and the X-XSRF-TOKEN header, and refreshes an expired token once.
    const response = await client.fetch('/api/notes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
    if (response.status !== 201) return setError(await codeOf(response));
    const { note } = (await response.json()) as { note: Note };
    setNotes((current) => [...current, note]);
    setError(null);
    form.reset();
  }

  return (
    <section>
      <h1>
        Signed in as <span data-testid="whoami">{user?.username}</span>
      </h1>
      <form onSubmit={addNote}>
        <input name="text" data-testid="note-text" />
        <button type="submit" data-testid="note-submit">Add note</button>
      </form>
      {error !== null && <p data-testid="note-error">{error}</p>}
      <ul data-testid="notes">
        {notes.map((note) => (
          <li key={note.id}>{note.text}</li>
        ))}
      </ul>
      <button type="button" data-testid="logout" onClick={() => void logout()}>
        Sign out
      </button>
    </section>
  );
}
