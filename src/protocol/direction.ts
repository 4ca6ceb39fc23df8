/** frontend = client → server, backend = server → client (the documentation's words). */
export type Direction = 'frontend' | 'backend';
