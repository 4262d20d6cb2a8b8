// Checks a workflow script before launch, in the loader's isolate, after vendor/acorn.js.
// checkWorkflowScript(source) answers a JSON string: {error} or {meta, body} where body is the
// script as the sandbox runs it (no ES modules there): same lines, `export` blanked out.
"use strict";

class ScriptProblem extends Error {}

const MAIN = "const __main__=";
const GLOBALS = ["agent", "parallel", "pipeline", "workflow", "phase", "log", "budget", "args"];

function where(node) {
  return `line ${node.loc.start.line}, column ${node.loc.start.column + 1}`;
}

function parse(source) {
  try {
    return acorn.parse(source, {
      ecmaVersion: "latest",
      sourceType: "module",
      locations: true,
      allowAwaitOutsideFunction: true,
      allowReturnOutsideFunction: true,
      allowHashBang: true,
    });
  } catch (error) {
    if (!(error instanceof SyntaxError) || !error.loc) throw error;
    const message = error.message.replace(/ \(\d+:\d+\)$/, "");
    throw new ScriptProblem(
      `syntax error at line ${error.loc.line}, column ${error.loc.column + 1}: ${message}`,
    );
  }
}

function impurity(node) {
  switch (node.type) {
    case "Identifier":
      return `a variable (\`${node.name}\`)`;
    case "CallExpression":
    case "NewExpression":
      return "a call";
    case "SpreadElement":
      return "a spread";
    case "TemplateLiteral":
      return "a template interpolation";
    case "TaggedTemplateExpression":
      return "a tagged template";
    case "FunctionExpression":
    case "ArrowFunctionExpression":
      return "a function";
    case "MemberExpression":
      return "a property access";
    default:
      return `an expression (${node.type})`;
  }
}

function notPure(node, what) {
  return new ScriptProblem(
    `meta must be a pure literal, but ${where(node)} has ${what ?? impurity(node)}`,
  );
}

function literal(node) {
  switch (node.type) {
    case "ObjectExpression":
      return objectLiteral(node);
    case "ArrayExpression":
      return node.elements.map((element) => {
        if (element === null) throw notPure(node, "an array hole");
        return literal(element);
      });
    case "Literal":
      if (node.regex || node.bigint !== undefined) throw notPure(node, "a regular expression or BigInt");
      return node.value;
    case "TemplateLiteral":
      if (node.expressions.length > 0) throw notPure(node.expressions[0], "a template interpolation");
      return node.quasis[0].value.cooked;
    case "UnaryExpression":
      if (node.operator === "-" && node.argument.type === "Literal" && typeof node.argument.value === "number") {
        return -node.argument.value;
      }
      throw notPure(node);
    default:
      throw notPure(node);
  }
}

function objectLiteral(node) {
  const value = {};
  for (const property of node.properties) {
    if (property.type === "SpreadElement") throw notPure(property, "a spread");
    if (property.computed) throw notPure(property, "a computed key");
    if (property.kind !== "init" || property.method) throw notPure(property, "a method or accessor");
    if (property.shorthand) throw notPure(property.value);
    const key = property.key.type === "Identifier" ? property.key.name : String(property.key.value);
    // defineProperty, so that a key named __proto__ is data, not a prototype.
    Object.defineProperty(value, key, { value: literal(property.value), enumerable: true });
  }
  return value;
}

function isMetaDeclaration(node) {
  const declaration = node.declaration;
  return (
    declaration?.type === "VariableDeclaration" &&
    declaration.declarations.some((d) => d.id.type === "Identifier" && d.id.name === "meta")
  );
}

function metaValue(node) {
  const declaration = node.declaration;
  const [declarator] = declaration.declarations;
  if (declaration.kind !== "const" || declaration.declarations.length !== 1 || !declarator.init) {
    throw new ScriptProblem(`write meta as \`export const meta = {...}\` (${where(node)})`);
  }
  return literal(declarator.init);
}

function isFunction(node) {
  return ["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"].includes(node.type);
}

// The source between two offsets, replaced by `text` padded with spaces and keeping its newlines,
// so that every line number (and most columns) of the script stay what the author wrote.
function blankOut(source, start, end, text = "") {
  const newlines = source.slice(start, end).replace(/[^\n]/g, "");
  const replacement = text + newlines;
  return replacement + " ".repeat(Math.max(0, end - start - replacement.length));
}

// `main(args)` (Whale's form) gets the args; `main({ agent, args, ... })` gets the globals.
function mainCall(declaration) {
  const [first] = declaration.params;
  const wantsGlobals =
    first?.type === "ObjectPattern" &&
    first.properties.some((p) => p.type === "Property" && !p.computed && GLOBALS.includes(p.key.name));
  return wantsGlobals ? `__main__({ ${GLOBALS.join(", ")} })` : "__main__(args)";
}

function forbidModuleSyntax(node) {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    node.forEach(forbidModuleSyntax);
    return;
  }
  if (node.type === "ImportExpression" || (node.type === "MetaProperty" && node.meta.name === "import")) {
    throw new ScriptProblem(
      `${where(node)}: import is not available in a workflow script (no modules, files or network)`,
    );
  }
  for (const [key, value] of Object.entries(node)) {
    if (key !== "loc" && value !== null && typeof value === "object") forbidModuleSyntax(value);
  }
}

function check(source) {
  const program = parse(source);
  forbidModuleSyntax(program);
  const edits = [];
  let meta = null;
  let main = null;
  program.body.forEach((node, index) => {
    if (node.type === "ImportDeclaration") {
      throw new ScriptProblem(
        `${where(node)}: import is not available in a workflow script (no modules, files or network)`,
      );
    }
    if (node.type === "ExportNamedDeclaration" && isMetaDeclaration(node)) {
      if (index !== 0) {
        throw new ScriptProblem(`\`export const meta\` must be the script's first statement (${where(node)})`);
      }
      meta = metaValue(node);
      edits.push([node.start, node.declaration.start, ""]);
    } else if (node.type === "ExportDefaultDeclaration") {
      if (!isFunction(node.declaration)) {
        throw new ScriptProblem(
          `\`export default\` must be a function: export default async function main(args) {...} (${where(node)})`,
        );
      }
      main = mainCall(node.declaration);
      edits.push([node.start, node.declaration.start, MAIN], [node.declaration.end, node.declaration.end, ";"]);
    } else if (node.type.startsWith("Export")) {
      throw new ScriptProblem(
        `${where(node)}: a workflow script exports only \`meta\` (first) and an optional default \`main\` function`,
      );
    }
  });
  if (meta === null && main === null) {
    throw new ScriptProblem(
      "a workflow script begins with `export const meta = { name, description }` " +
        "(or exports `default async function main(args)`)",
    );
  }
  let body = source;
  for (const [start, end, text] of edits.reverse()) {
    const replacement = start === end ? text : blankOut(source, start, end, text);
    body = body.slice(0, start) + replacement + body.slice(end);
  }
  if (main !== null) body += `\nreturn await ${main};`;
  return { meta, body };
}

function checkWorkflowScript(source) {
  try {
    return JSON.stringify(check(source));
  } catch (error) {
    const message = error instanceof ScriptProblem ? error.message : `the script could not be checked: ${error}`;
    return JSON.stringify({ error: message });
  }
}
