-- The reader every exported layer shares: it walks a layer's description
-- (fields with their widths, sizes, conditions and options) the way pkt's
-- own dissector does, then adds what it read to the tree. Portable Lua
-- (5.1 to 5.4): no bit operators, no integer division, no goto.

local function T(x) return x ~= 0 end
local function B(c) if c then return 1 else return 0 end end
local function sub(a, b)
  if b > a then error(string.format("%.0f - %.0f is negative", a, b), 0) end
  return a - b
end
local function div(a, b)
  if b == 0 then error("division by zero", 0) end
  return math.floor(a / b)
end
local function band(a, b)
  local r, bit = 0, 1
  while a > 0 and b > 0 do
    local x, y = a % 2, b % 2
    if x == 1 and y == 1 then r = r + bit end
    a, b, bit = (a - x) / 2, (b - y) / 2, bit * 2
  end
  return r
end
local function nz(a, b) if a ~= 0 then return a end return b end
local function choose(c, a, b) if c ~= 0 then return a() end return b() end
-- LAYER.FIELD in a rule: the nearest layer of that name below.
local function lower(C, layer, field)
  for k = #C.stack, 1, -1 do
    local n = C.stack[k]
    if n.def.name == layer then
      local i = n.def.index[field]
      if not i then break end
      return n.v[i]
    end
  end
  error(layer .. "." .. field .. ": there is no " .. layer .. " layer below (it is read by Wireshark, not by this export)", 0)
end

local function u64num(v) if type(v) == "number" then return v end return v:tonumber() end

-- A big-endian number of `bits` bits at bit `bit` of tvb.
local function getbits(tvb, bit, bits)
  local byte, skip = math.floor(bit / 8), bit % 8
  local nb = math.floor((skip + bits + 7) / 8)
  return u64num(tvb:range(byte, nb):bitfield(skip, bits))
end

local function getnum(tvb, bit, f)
  local v
  if f.le then
    local r = tvb:range(math.floor(bit / 8), f.bits / 8)
    if f.bits <= 32 then v = r:le_uint() else v = u64num(r:le_uint64()) end
  else
    v = getbits(tvb, bit, f.bits)
  end
  if f.signed and v >= 2 ^ (f.bits - 1) then v = v - 2 ^ f.bits end
  return v
end

local function plural(n, word) if n == 1 then return n .. " " .. word end return n .. " " .. word .. "s" end
local function needs(D, f, left_bits)
  return string.format("%s.%s needs %s, %d left", D.name, f.name, plural(math.floor((f.bits + 7) / 8), "byte"), math.floor(left_bits / 8))
end

-- A name (RFC 1035 labels) at p: how many bytes it takes, or nil and why.
local function name_size(tvb, p, left)
  local i = 0
  while true do
    if i >= left then return nil, "the name runs past the end (" .. left .. " bytes, no zero label)" end
    local b = tvb:range(p + i, 1):uint()
    if b == 0 then return i + 1 end
    if b >= 0xc0 then
      if i + 2 > left then return nil, "the name's compression pointer runs past the end" end
      return i + 2
    end
    if b >= 0x40 then return nil, string.format("a label length byte 0x%02x is neither a length (at most 63) nor a pointer", b) end
    i = i + 1 + b
    if i + 1 > 255 then return nil, "the name is longer than 255 bytes" end
  end
end

-- The labels of the name at pos, following compression pointers inside the
-- message [m0, m1) as pkt does; nil and why when they cannot be followed.
local function follow_name(tvb, m0, m1, pos)
  local labels, total, jumps, start = {}, 0, 0, pos
  while true do
    if pos >= m1 then return nil, "the name runs past the end of the message" end
    local b = tvb:range(pos, 1):uint()
    if b == 0 then return labels end
    if b >= 0xc0 then
      if pos + 1 >= m1 then return nil, "a compression pointer runs past the end of the message" end
      local off = (b - 0xc0) * 256 + tvb:range(pos + 1, 1):uint()
      if m0 + off >= start then
        return nil, string.format("the compression pointer at byte %d points to byte %d, not before the labels it ends (byte %d): a loop",
                                  pos - m0, off, start - m0)
      end
      start = m0 + off
      jumps = jumps + 1
      if jumps > 64 then return nil, "the name follows more than 64 compression pointers" end
      pos = m0 + off
    elseif b >= 0x40 then
      return nil, string.format("a label length byte 0x%02x at byte %d is neither a length (at most 63) nor a pointer", b, pos - m0)
    else
      if pos + 1 + b > m1 then return nil, "the name runs past the end of the message" end
      labels[#labels + 1] = tvb:range(pos + 1, b):string()
      total = total + 1 + b
      if total + 1 > 255 then return nil, "the name, its compression pointers followed, is longer than 255 bytes" end
      pos = pos + 1 + b
    end
  end
end

local read_layer, match_option

-- A list of options from start: `want` of them (count), up to the marker
-- (until), or to stop. Returns the end and the elements, or nil and why.
local function read_list(D, f, tvb, start, stop, want, C)
  local p, got, elems, ended = start, 0, {}, false
  while true do
    if want then
      if got >= want then break end
    elseif f.until_name then
      if ended then break end
    elseif p >= stop then
      break
    end
    if p >= stop then
      if want then
        return nil, string.format("%s.%s has count %s = %d, but the bytes end after %d", D.name, f.name, f.count_text, want, got)
      end
      return nil, string.format("%s.%s runs past the end without its '%s'", D.name, f.name, f.until_name)
    end
    local el, w = match_option(f.opts, tvb, p, stop, C)
    if not el then
      return nil, string.format("%s.%s: element %d (at byte %d) is none of its options%s", D.name, f.name, got + 1, p - start,
                                w and (": " .. w) or ", or runs past the end")
    end
    if f.until_name and el.def.name == f.until_name and not el.generic then ended = true end
    elems[#elems + 1] = el
    p = p + el.size
    got = got + 1
  end
  return p, elems
end

-- Splits a list that its size bounds, for showing: bytes that are none of
-- its options become one bytes element.
local function split_list(f, tvb, start, stop, C)
  local elems, p = {}, start
  while p < stop do
    local el = match_option(f.opts, tvb, p, stop, C)
    if not el then
      elems[#elems + 1] = { bytes = true, off = p, size = stop - p }
      break
    end
    elems[#elems + 1] = el
    p = p + el.size
  end
  return elems
end

-- Reads layer D at byte off, up to stop: the values of its fields, their
-- places and sizes. Returns the node, or nil and why it does not fit.
read_layer = function(D, tvb, off, stop, C)
  local n = { def = D, off = off, v = {}, len = {}, present = {}, bit = {}, elems = {} }
  local bit, limit = off * 8, stop * 8
  for i, f in ipairs(D.fields) do
    local on = true
    if f.cond then
      local ok, r = pcall(f.cond, n, C)
      if not ok then return nil, D.name .. "." .. f.name .. ": " .. tostring(r) end
      on = r ~= 0
    end
    n.present[i] = on
    n.bit[i] = bit
    if not on then
      n.v[i], n.len[i] = 0, 0
    elseif f.fixed then
      if bit + f.bits > limit then return nil, needs(D, f, limit - bit) end
      if f.kind == "uint" then n.v[i] = getnum(tvb, bit, f) else n.v[i] = f.bits / 8 end
      n.len[i] = math.floor(f.bits / 8)
      bit = bit + f.bits
    else
      local p = math.floor(bit / 8)
      local left = stop - p
      local size = left
      if f.count or f.until_name then
        local want
        if f.count then
          local ok, r = pcall(f.count, n, C)
          if not ok then return nil, D.name .. "." .. f.name .. ": count " .. f.count_text .. ": " .. tostring(r) end
          want = r
        end
        local e, elems = read_list(D, f, tvb, p, stop, want, C)
        if not e then return nil, elems end
        size = e - p
        n.elems[i] = elems
      else
        if f.self_sized and not f.size then
          local s, why = name_size(tvb, p, left)
          if not s then return nil, D.name .. "." .. f.name .. ": " .. why end
          size = s
          if s >= 2 and tvb:range(p + s - 2, 1):uint() >= 0xc0 then
            local ok, w = follow_name(tvb, C.msg_off, C.msg_end, p)
            if not ok then return nil, D.name .. "." .. f.name .. ": " .. w end
          end
        end
        if f.size then
          local ok, r = pcall(f.size, n, C)
          if not ok then return nil, D.name .. "." .. f.name .. ": size " .. f.size_text .. ": " .. tostring(r) end
          size = r
          if size > left then
            return nil, string.format("%s.%s has size %s = %d bytes, but %d are left", D.name, f.name, f.size_text, size, left)
          end
        end
        if f.strict and size > 0 then
          local e, elems = read_list(D, f, tvb, p, p + size, nil, C)
          if not e then return nil, elems end
          n.elems[i] = elems
        elseif f.kind == "array" and size % (f.bits / 8) ~= 0 then
          return nil, string.format("%s.%s is %d bytes, not a whole number of u%d elements", D.name, f.name, size, f.bits)
        end
      end
      n.v[i], n.len[i] = size, size
      bit = bit + size * 8
    end
  end
  n.size = math.floor(bit / 8) - off
  return n
end

-- The option of a list that the bytes at pos are (tagged ones by their
-- first field), as pkt matches them: its length rules must agree with its
-- bytes. nil and why when none fits.
match_option = function(opts, tvb, pos, stop, C)
  local any_tagged, why = false, nil
  for _, od in ipairs(opts) do if od.tag ~= nil then any_tagged = true end end
  for _, od in ipairs(opts) do
    local fits = true
    if od.tag ~= nil then
      local f = od.fields[1]
      if pos * 8 + f.bits > stop * 8 then
        fits = false
      elseif f.kind == "uint" then
        fits = getbits(tvb, pos * 8, f.bits) == od.tag
      else
        fits = tvb:range(pos, f.bits / 8):bytes():tohex():lower() == od.tag
      end
    end
    if fits then
      local n, w = read_layer(od, tvb, pos, stop, C)
      if not n then
        why = why or w
      else
        local agrees = true
        for i, f in ipairs(od.fields) do
          if agrees and f.agree and n.present[i] then
            local ok, want = pcall(f.agree, n, C)
            if not ok or want ~= n.v[i] then
              agrees = false
              if ok then why = why or string.format("%s.%s is %d, but %s gives %d", od.name, f.name, n.v[i], f.auto_text, want) end
            end
          end
        end
        if agrees and n.size > 0 then
          n.generic = od.tag == nil and any_tagged
          return n
        end
      end
    end
  end
  return nil, why
end

-- A field's value as pkt writes it: enum and flag names, addresses, hex.
local function value_text(n, i, tvb)
  local f = n.def.fields[i]
  if not n.present[i] then return nil end
  local p = math.floor(n.bit[i] / 8)
  if f.kind == "uint" then
    local v = n.v[i]
    if f.names and f.names[v] then return f.names[v] end
    if f.flags and #f.flags > 0 then
      if v == 0 then return "0" end
      local out, rest = {}, v
      for _, fl in ipairs(f.flags) do
        if fl.value ~= 0 and band(v, fl.value) == fl.value then
          out[#out + 1] = fl.name
          rest = rest - band(rest, fl.value)
        end
      end
      if rest ~= 0 then out[#out + 1] = string.format("0x%x", rest) end
      return table.concat(out, "|")
    end
    if f.hex then return string.format("0x%04x", v) end
    return string.format("%.0f", v)
  elseif f.kind == "ipv4" then return tostring(tvb:range(p, 4):ipv4())
  elseif f.kind == "ipv6" then return tostring(tvb:range(p, 16):ipv6())
  elseif f.kind == "mac" then return tostring(tvb:range(p, 6):ether())
  elseif f.kind == "name" then
    local labels = follow_name(tvb, n.msg_off or 0, n.msg_end or tvb:len(), p)
    if labels then return '"' .. table.concat(labels, ".") .. '"' end
  end
  if n.len[i] == 0 then return '""' end
  return 'hex"' .. tvb:range(p, n.len[i]):bytes():tohex():lower() .. '"'
end

-- `summary "{src} > {dst}"`: a field the packet does not have is left out
-- with the text since the previous {...}.
local function summary_text(n, tvb)
  local D = n.def
  if not D.summary then return nil end
  local out, rest = {}, D.summary
  while true do
    local a, b, name = rest:find("{([%w_]+)}")
    if not a then break end
    local i = D.index[name]
    local v = i and value_text(n, i, tvb)
    if v then out[#out + 1] = rest:sub(1, a - 1) .. v end
    rest = rest:sub(b + 1)
  end
  out[#out + 1] = rest
  return table.concat(out)
end

-- A range; an empty one at the very end of the bytes where Wireshark refuses it there.
local function range(tvb, off, len)
  if len == 0 then
    local ok, r = pcall(tvb.range, tvb, off, 0)
    if ok then return r end
    return tvb:range(math.max(tvb:len() - 1, 0), 0)
  end
  return tvb:range(off, len)
end

local render

local function option_label(el, tvb)
  if el.bytes then return 'hex"' .. tvb:range(el.off, el.size):bytes():tohex():lower() .. '"' end
  local D, args = el.def, {}
  for _, i in ipairs(D.params) do
    local v = value_text(el, i, tvb)
    if v then args[#args + 1] = v end
  end
  local label = D.name
  if #args > 0 then label = label .. "(" .. table.concat(args, ", ") .. ")" end
  if el.generic then label = label .. " (a kind none of the other options has)" end
  return label
end

local function render_elems(elems, tvb, tree, C)
  for _, el in ipairs(elems) do
    local t = tree:add(range(tvb, el.off, el.size), option_label(el, tvb))
    if not el.bytes then render(el, tvb, t, C) end
  end
end

-- Adds a read layer's fields to the tree.
render = function(n, tvb, tree, C)
  local D = n.def
  n.msg_off, n.msg_end = C.msg_off, C.msg_end
  for i, f in ipairs(D.fields) do
    if n.present[i] then
      local p = math.floor(n.bit[i] / 8)
      if f.kind == "uint" then
        local r = range(tvb, p, f.container)
        local item
        if f.explicit then item = tree:add(f.pf, r, n.v[i])
        elseif f.le then item = tree:add_le(f.pf, r) else item = tree:add(f.pf, r) end
        if f.flags and #f.flags > 0 then
          for _, fl in ipairs(f.flags) do
            if f.le then item:add_le(fl.pf, r) else item:add(fl.pf, r) end
          end
          item:append_text(" (" .. value_text(n, i, tvb) .. ")")
        elseif f.names and not f.vs and f.names[n.v[i]] then
          item:append_text(" (" .. f.names[n.v[i]] .. ")")
        end
        if f.note then item:append_text(" " .. f.note) end
      elseif f.kind == "ipv4" or f.kind == "ipv6" or f.kind == "mac" then
        tree:add(f.pf, range(tvb, p, f.bits / 8))
      elseif f.kind == "name" then
        local labels, why = follow_name(tvb, C.msg_off, C.msg_end, p)
        local text = labels and table.concat(labels, ".") or ("(" .. why .. ")")
        tree:add(f.pf, range(tvb, p, n.len[i]), text)
      elseif f.kind == "array" then
        local esz = f.bits / 8
        local t = tree:add(range(tvb, p, n.len[i]), string.format("%s: %s", f.name, plural(n.len[i] / esz, "element")))
        for k = 0, n.len[i] / esz - 1 do
          if f.le then t:add_le(f.pf, tvb:range(p + k * esz, esz)) else t:add(f.pf, tvb:range(p + k * esz, esz)) end
        end
      elseif f.kind == "text" and n.len[i] > 0 then
        local t = tree:add(f.pf, range(tvb, p, n.len[i]))
        local q, e = p, p + n.len[i]
        while q < e do
          local len = tvb:range(q, 1):uint()
          if q + 1 + len > e then
            t:add(tvb:range(q, e - q), "(a string whose length runs past the field's end)")
            break
          end
          t:add(f.epf, tvb:range(q, 1 + len), tvb:range(q + 1, len):string())
          q = q + 1 + len
        end
      elseif n.len[i] == 0 then
        -- Wireshark shows an empty bytes field as <MISSING>: say it is empty.
        tree:add(range(tvb, p, 0), f.name .. ": (empty)")
      else
        local item = tree:add(f.pf, range(tvb, p, n.len[i]))
        if f.opts then
          local elems = n.elems[i]
          if not elems then elems = split_list(f, tvb, p, p + n.len[i], C) end
          render_elems(elems, tvb, item, C)
        end
      end
    end
  end
end

local data_dissector = Dissector.get("data")

-- The candidates for the layer after n, in pkt's order: every binding
-- whose field holds its value, the lowest value first; then the bindings
-- with no field.
local function candidates(n)
  local out = {}
  for _, b in ipairs(n.def.next or {}) do
    if b.field == nil or (n.present[b.field] and n.v[b.field] == b.value) then out[#out + 1] = b end
  end
  table.sort(out, function(a, b)
    if (a.field == nil) ~= (b.field == nil) then return b.field == nil end
    if a.value ~= b.value then return (a.value or 0) < (b.value or 0) end
    return a.order < b.order
  end)
  return out
end

local show_and_follow
local RAW  -- pkt's `raw` layer, when exported: what the rest of a packet is read as

-- Shows layer n (read already) and dissects what follows it.
show_and_follow = function(n, tvb, pinfo, tree, C)
  local D = n.def
  local item = tree:add(D.proto, range(tvb, n.off, n.size))
  render(n, tvb, item, C)
  pinfo.cols.protocol:set(D.name)
  local s = summary_text(n, tvb)
  pinfo.cols.info:set(D.name .. (s and (" " .. s) or ""))
  local pos, stop = n.off + n.size, C.stop
  if D.payload_size then
    local ok, want = pcall(D.payload_size, n, C)
    if not ok then
      item:add_proto_expert_info(D.note, D.name .. ": payload size " .. D.payload_text .. ": " .. tostring(want))
    elseif want > stop - pos then
      item:add_proto_expert_info(D.note, string.format("%s: payload size %s is %d bytes, but %d are left", D.name, D.payload_text, want, stop - pos))
    elseif want < stop - pos then
      item:add(D.trailer_pf, tvb:range(pos + want, stop - pos - want))
      stop = pos + want
    end
  end
  if pos >= stop then return end
  local stack = {}
  for k, v in ipairs(C.stack) do stack[k] = v end
  stack[#stack + 1] = n
  local C2 = { stack = stack, stop = stop, msg_off = pos, msg_end = stop }
  local why
  for _, b in ipairs(candidates(n)) do
    if b.upper then
      local u, w = read_layer(b.upper, tvb, pos, stop, C2)
      if u and b.when then
        local ok, on = pcall(b.when, u, C2)
        if not (ok and on ~= 0) then u, w = nil, "`when " .. b.when_text .. "` is false" end
      end
      if u then return show_and_follow(u, tvb, pinfo, tree, C2) end
      if not why then
        why = w
        if w:sub(1, #b.upper.name + 1) ~= b.upper.name .. "." then why = b.upper.name .. ": " .. w end
      end
    elseif b.table then
      -- A layer this file does not have: Wireshark's own dissector for the value, if any.
      local ok, on = true, 1
      if b.when then ok, on = pcall(b.when, nil, C2) end
      if not ok or on ~= 0 then
        local d = DissectorTable.get(b.table):get_dissector(b.value)
        if d then
          d:call(tvb:range(pos, stop - pos):tvb(), pinfo, tree)
          return
        end
      end
    end
  end
  if why then item:add_proto_expert_info(D.note, string.format("%s; the rest (%d bytes) is raw", why, stop - pos)) end
  -- As pkt reads: the rest is its `raw` layer when this file has it, else Wireshark's data.
  if RAW then
    local r = read_layer(RAW, tvb, pos, stop, C2)
    if r then return show_and_follow(r, tvb, pinfo, tree, C2) end
  end
  data_dissector:call(tvb:range(pos, stop - pos):tvb(), pinfo, tree)
end

-- A layer reached from a Wireshark dissector table (or Decode As).
local function entry(D, tvb, pinfo, tree)
  local C = { stack = {}, stop = tvb:len(), msg_off = 0, msg_end = tvb:len() }
  local n, why = read_layer(D, tvb, 0, tvb:len(), C)
  if n and D.entry_when then
    -- The bindings registered for the value Wireshark matched: one whose
    -- condition holds (or cannot be told here) lets the layer in.
    local matched, ok_any = false, false
    for _, b in ipairs(D.entry_when) do
      if b.value == pinfo.match_uint then
        matched = true
        if not b.when then ok_any = true else
          local ok, on = pcall(b.when, n, C)
          if not ok or on ~= 0 then ok_any = true end
        end
      end
    end
    if matched and not ok_any then return 0 end
  end
  if not n then
    local item = tree:add(D.proto, tvb:range())
    item:add_proto_expert_info(D.note, string.format("%s; the rest (%d bytes) is raw", why, tvb:len()))
    pinfo.cols.protocol:set(D.name)
    data_dissector:call(tvb, pinfo, tree)
    return tvb:len()
  end
  show_and_follow(n, tvb, pinfo, tree, C)
  return tvb:len()
end

-- A protocol per layer; a name Wireshark has already is an error that says what to do.
local function new_proto(name, desc, layer)
  local ok, p = pcall(Proto, name, desc)
  if not ok then
    error(string.format("pkt_layers: cannot register the protocol '%s' for pkt's layer %s: %s; export again with " ..
                        "--prefix pkt. (its fields become pkt.%s.FIELD)", name, layer, tostring(p), name), 0)
  end
  return p
end
