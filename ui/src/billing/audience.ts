/**
 * Who the page speaks to, as the API's answers tell (never guessed from the token): an organization's
 * administrator, a project user, or a guest; and the header's words for each.
 */
import type { Project } from '../api/types';

export type Audience = { kind: 'admin' } | { kind: 'project'; projects: Project[] } | { kind: 'guest' };

/** "a", "a and b", "a, b and c", "a, b and 3 more". */
export function listed(names: string[], shown = 3): string {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length > shown) return `${names.slice(0, shown - 1).join(', ')} and ${String(names.length - shown + 1)} more`;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

/** The header's title and the sentence under it. */
export function header(audience: Audience): { title: string; intro: string } {
  switch (audience.kind) {
    case 'admin':
      return { title: 'Billing & Subscriptions', intro: "Monitor costs, manage subscriptions, and view available plans for your organization's projects." };
    case 'project': {
      const names = audience.projects.map((p) => p.namespace);
      const orgs = [...new Set(audience.projects.map((p) => p.organization))];
      if (names.length === 0) {
        return {
          title: 'Your projects',
          intro: "Your account is a project user, but none of its projects exists yet. Ask your organization's administrator to create it.",
        };
      }
      const of = orgs.length === 1 ? ` of organization ${orgs[0] ?? ''}` : '';
      return {
        title: names.length === 1 ? `Project ${names[0] ?? ''}` : 'Your projects',
        intro: `You work in ${names.length === 1 ? 'project' : 'projects'} ${listed(names)}${of}. Here you see what ${names.length === 1 ? 'it uses' : 'each uses'}; the plan, payments and add-ons are managed by the organization's administrators.`,
      };
    }
    case 'guest':
      return {
        title: 'Billing & Subscriptions',
        intro: "You are signed in, but your account is not in any organization or project, so there is no billing to show. Ask your organization's administrator to add you to the organization or to one of its projects.",
      };
  }
}
