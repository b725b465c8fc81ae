// ref-names: new branches and tags follow the naming rules; tags never move.
//
// * A new branch must be named `main`, `release/<x.y>`, `feature/<slug>`,
//   `fix/<slug>` or `users/<your name>/<anything>`: a personal branch under
//   someone else's name is vetoed, and so is any personal branch when hookrt
//   cannot tell who pushes. Only creations are checked, so branches named
//   before the rules existed can still be updated and deleted.
// * A new tag must be `v<semver>` (`v1.2.3`, `v1.2.3-rc.1`); a tag that
//   exists can't be moved or deleted: others may have built from it.
// * A new release branch is cut from finished work: the first commit it adds
//   to the repository whose subject starts with `WIP`, `fixup!`, `squash!`
//   or `amend!` is vetoed. The walk stops there; a clean branch is read to
//   the end, in batches. History the host cannot walk (a commit git cannot
//   read either) vetoes the branch, naming the commit and what to do.
//
// Other refs (`refs/notes/*`, `refs/changes/*`, ...) are not checked.

import { writeLine } from 'hookrt:policy/output@0.1.0';
import { commits, damageNote, subject } from './commits.js';

// The rules. They are constants until the contract lets an admin set them
// per repository; a `form` is what the pusher is shown.
const SLUG = '[a-z0-9]+(?:-[a-z0-9]+)*'; // lower-case words joined by single hyphens
const BRANCH_NAMES = [
  { form: 'main', pattern: /^main$/ },
  { form: 'release/<x.y>', pattern: /^release\/(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)$/ },
  { form: 'feature/<slug>', pattern: new RegExp(`^feature/${SLUG}$`) },
  { form: 'fix/<slug>', pattern: new RegExp(`^fix/${SLUG}$`) },
];
// `users/<name>/<anything>`, where <name> must be the pusher's.
const PERSONAL = /^users\/([^/]+)\/./;
// `v` and a semantic version (semver.org's own expression).
const TAG_NAME =
  /^v(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;
// Release branches get their new commits read, and these subjects vetoed.
const RELEASE = /^release\//;
const UNFINISHED = /^(?:wip\b|fixup!|squash!|amend!)/i;

const NAMING_HELP = [
  'New branches are named one of:',
  ...BRANCH_NAMES.map(({ form }) => `  ${form}`),
  '  users/<your name>/<anything>',
  'where <slug> is lower-case letters and digits, words joined by hyphens (add-login-form),',
  'and <x.y> a version such as 2.4. To push under another name:',
].join('\n');

/**
 * The policy's export: `check: func(push: push) -> verdict`.
 * Returns `{ tag: 'accept' }` or `{ tag: 'reject', val: [veto, ...] }`.
 */
export function check(push) {
  const vetoes = [];
  for (const update of push.refUpdates) {
    if (update.class === 'branch' && update.kind === 'create') {
      vetoes.push(...checkNewBranch(update, push.pusher));
    } else if (update.class === 'tag') {
      vetoes.push(...checkTag(update));
    }
  }
  return vetoes.length === 0 ? { tag: 'accept' } : { tag: 'reject', val: vetoes };
}

function checkNewBranch(update, pusher) {
  const branch = update.name.slice('refs/heads/'.length);
  const personal = PERSONAL.exec(branch);
  if (personal) {
    return checkPersonalBranch(update, branch, personal[1], pusher);
  }
  if (!BRANCH_NAMES.some(({ pattern }) => pattern.test(branch))) {
    return [veto(update, `branch name "${branch}" is not allowed`, `${NAMING_HELP}\n  ${renameCommand(branch)}`)];
  }
  return RELEASE.test(branch) ? checkReleaseCommits(update, branch) : [];
}

// `pusher` is the contract's `option<pusher>`: undefined when hookrt could
// not tell who pushes, else `{ name, email, source }`.
function checkPersonalBranch(update, branch, owner, pusher) {
  if (pusher === undefined) {
    return [
      veto(
        update,
        `personal branch "${branch}" can't be checked: hookrt can't tell who is pushing`,
        'A personal branch must carry the pusher\'s name, and this server did not say who you are.\n' +
          'Push to a feature/<slug> or fix/<slug> branch instead, or ask an admin how pushes identify you.',
      ),
    ];
  }
  if (owner !== pusher.name) {
    const rest = branch.slice(`users/${owner}/`.length);
    return [
      veto(
        update,
        `"${branch}" is a personal branch of ${owner}, and you push as ${pusher.name}`,
        `Personal branches go under users/${pusher.name}/:\n  git push origin HEAD:users/${pusher.name}/${rest}`,
      ),
    ];
  }
  return [];
}

function checkTag(update) {
  const tag = update.name.slice('refs/tags/'.length);
  switch (update.kind) {
    case 'create':
      if (TAG_NAME.test(tag)) return [];
      return [
        veto(
          update,
          `tag name "${tag}" is not a version`,
          'Tags are v<semver>: v1.2.3, or v1.2.3-rc.1 for a pre-release.\n' +
            `Delete the local tag and tag again: git tag -d ${tag} && git tag v<x.y.z>`,
        ),
      ];
    case 'update':
      return [
        veto(
          update,
          `tag ${tag} already exists and can't be moved`,
          'Others may have built from it. Tag the new commit with the next version instead,\n' +
            `and fetch the server's tag to undo the local move: git fetch origin --force tag ${tag}`,
        ),
      ];
    case 'delete':
      return [
        veto(
          update,
          `tag ${tag} can't be deleted`,
          'Others may have built from it. If it was pushed by mistake, ask an admin to remove it on the server.',
        ),
      ];
  }
}

// Reads the commits the new branch adds to the repository, newest first,
// and stops at the first unfinished one: one is enough to veto, and its
// author fixes them all in one rebase.
function checkReleaseCommits(update, branch) {
  const failures = [];
  let read = 0;
  for (const commit of commits(update.name, 'added-to-repository', failures)) {
    read += 1;
    if (UNFINISHED.test(subject(commit))) {
      return [
        veto(
          update,
          `release branch ${branch} brings unfinished work`,
          'Release branches are cut from finished work. Squash or reword the commit\n' +
            '(git rebase -i --autosquash), then push the branch again.',
          commit,
        ),
      ];
    }
  }
  // A walk that failed vetoes the branch: not all its commits were read.
  if (failures.length > 0) return failures;
  writeLine(`${branch}: ${read} new commit(s) checked, none unfinished`);
  return [];
}

// A veto about a ref, or about one of its commits: then, when the commit is
// malformed, the detail also says what is damaged.
function veto(update, summary, detail, commit) {
  const note = commit === undefined ? undefined : damageNote(commit);
  return {
    summary,
    detail: note === undefined ? detail : `${detail}\n${note}`,
    refName: update.name,
    commitId: commit?.id,
  };
}

// A push command to a name that follows the rules, guessed from the rejected
// one where that is easy: `Feature/Add_Login` becomes `feature/add-login`.
function renameCommand(branch) {
  const [head, ...rest] = branch.toLowerCase().split('/');
  const slugify = (text) => (text.match(/[a-z0-9]+/g) ?? ['my-change']).join('-');
  if ((head === 'feature' || head === 'fix') && rest.length > 0) {
    return `git push origin HEAD:${head}/${slugify(rest.join('-'))}`;
  }
  if (rest.length === 0) return `git push origin HEAD:feature/${slugify(head)}`;
  return 'git push origin HEAD:feature/<slug>';
}
