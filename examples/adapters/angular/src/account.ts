import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { Component, effect, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { GatehouseAuth } from '@gatehouse/client/angular';

interface Note {
  readonly id: string;
  readonly text: string;
}

function codeOf(error: unknown): string {
  if (!(error instanceof HttpErrorResponse)) return 'UNKNOWN';
  const code = (error.error as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' ? code : `HTTP ${error.status}`;
}

@Component({
  selector: 'app-account',
  template: `
    <section>
      <h1>Signed in as <span data-testid="whoami">{{ auth.user()?.username }}</span></h1>
      <form (submit)="addNote($event, text)">
        <input #text data-testid="note-text" />
        <button type="submit" data-testid="note-submit">Add note</button>
      </form>
      @if (error(); as code) {
        <p data-testid="note-error">{{ code }}</p>
      }
      <ul data-testid="notes">
        @for (note of notes(); track note.id) {
          <li>{{ note.text }}</li>
        }
      </ul>
      <button type="button" data-testid="logout" (click)="auth.logout()">Sign out</button>
    </section>
  `,
})
export class Account {
  readonly auth = inject(GatehouseAuth);
  // The API goes through HttpClient: Angular adds X-XSRF-TOKEN itself, gatehouseInterceptor refreshes on expiry.
  private readonly http = inject(HttpClient);
  private readonly router = inject(Router);
  readonly notes = signal<readonly Note[]>([]);
  readonly error = signal<string | null>(null);

  constructor() {
    // The guard runs on navigation; when the session ends while this page is open, leave it.
    effect(() => {
      if (this.auth.state() === null) void this.router.navigate(['/login'], { queryParams: { returnTo: this.router.url } });
    });
    this.http.get<{ notes: Note[] }>('/api/notes').subscribe({
      next: (body) => this.notes.set(body.notes),
      error: (error: unknown) => this.error.set(codeOf(error)),
    });
  }

  addNote(event: Event, input: HTMLInputElement): void {
    event.preventDefault();
    this.http.post<{ note: Note }>('/api/notes', { text: input.value }).subscribe({
      next: ({ note }) => {
        this.notes.update((notes) => [...notes, note]);
        this.error.set(null);
        input.value = '';
      },
      error: (error: unknown) => this.error.set(codeOf(error)),
    });
  }
}
